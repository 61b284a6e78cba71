"""Everything a ``Chain`` derives from its root seed: account keys, prevrandao, policy RNGs.

Each value is a pure function of the seed and an index (account or block number), tagged by
what it is for, so adding a use of the seed never shifts the values of another, and the same
seed gives the same accounts, block hashes and ordering choices in every run.
"""

from __future__ import annotations

import random

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak


def derive_accounts(seed: int, n: int, mnemonic: str | None) -> tuple[LocalAccount, ...]:
    """The chain's ``n`` local accounts.

    Args:
        seed: Root seed; account ``i``'s key is a keccak of a fixed tag, the seed and ``i``.
        n: How many accounts.
        mnemonic: Derive along ``m/44'/60'/0'/0/i`` from this BIP-39 mnemonic instead.
    """
    if mnemonic is not None:
        Account.enable_unaudited_hdwallet_features()
        return tuple(
            Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}") for i in range(n)
        )
    return tuple(
        Account.from_key(
            keccak(
                b"agent-testbed/account"
                + seed.to_bytes(32, "big", signed=True)
                + i.to_bytes(8, "big")
            )
        )
        for i in range(n)
    )


def prev_randao(seed: int, number: int) -> bytes:
    """The header's ``mix_hash`` (prevrandao) of block ``number``; never ``os.urandom``."""
    return keccak(
        b"agent-testbed/prevrandao"
        + seed.to_bytes(32, "big", signed=True)
        + number.to_bytes(8, "big")
    )


def policy_rng(seed: int, number: int) -> random.Random:
    """A fresh RNG for the ordering policy's choices in block ``number``."""
    return random.Random(f"agent-testbed/order/{seed}/{number}")
