"""The genesis allocation: funded accounts plus the contracts a Prague chain starts with.

A Prague chain as geth runs it (and as tools built against geth or anvil expect) is not empty
at genesis. Three accounts hold code from block 0:

- the **EIP-4788 beacon roots contract** at ``0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02``:
  at the start of each block a system call stores the block's ``parent_beacon_block_root``
  under its timestamp, in a ring buffer of 8,191 entries (EIP-4788, "Beacon roots contract");
- the **EIP-2935 block-hash history contract** at ``0x0000F90827F1C53a10cb7A02335B175320002935``:
  at the start of each block a system call stores the parent block's hash at slot
  ``(number - 1) % 8191``, so contracts can read 8,191 past block hashes, not BLOCKHASH's 256
  (EIP-2935, "Block processing");
- the **deterministic deployment proxy** (Arachnid's, the CREATE2 factory ``forge`` and
  hardhat-deploy use, which anvil pre-deploys) at ``0x4e59b44847b379578588920cA78FbF26c0B4956C``:
  calldata ``salt (32 bytes) || init code`` deploys with CREATE2 and returns the new address.

The runtime code of each is the one the EIPs specify (the bytes the EIPs' deployment
transactions leave behind; for the proxy, what its deployment left on mainnet). The two system
contracts get nonce 1, as geth's dev-mode genesis and their deployment transactions give them
(EIP-161: a created contract starts at nonce 1). The proxy gets nonce 0, as anvil's
``set_code`` pre-deploy leaves it. The system calls themselves are made by the backend when a
block is opened (py-evm's Cancun/Prague block pre-processing, which writes the same slots).

Pure data and arithmetic: no EVM is imported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from agentbed.chain.addresses import canonical, checksum
from agentbed.chain.hashing import keccak
from agentbed.chain.types import Address

__all__ = [
    "BEACON_ROOTS_ADDRESS",
    "CREATE2_DEPLOYER_ADDRESS",
    "HISTORY_SERVE_WINDOW",
    "HISTORY_STORAGE_ADDRESS",
    "SYSTEM_ACCOUNTS",
    "GenesisAccount",
    "create2_address",
    "create2_deployer_calldata",
    "genesis_state",
]

BEACON_ROOTS_ADDRESS: Address = "0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02"
HISTORY_STORAGE_ADDRESS: Address = "0x0000F90827F1C53a10cb7A02335B175320002935"
CREATE2_DEPLOYER_ADDRESS: Address = "0x4e59b44847b379578588920cA78FbF26c0B4956C"

HISTORY_SERVE_WINDOW = 8191
"""EIP-2935: block hashes the history contract keeps (a ring buffer of this many slots)."""

_BEACON_ROOTS_CODE = bytes.fromhex(
    "3373fffffffffffffffffffffffffffffffffffffffe14604d57602036146024575f5ffd5b5f3580156049"
    "5762001fff810690815414603c575f5ffd5b62001fff01545f5260205ff35b5f5ffd5b62001fff42064281"
    "555f359062001fff015500"
)
_HISTORY_STORAGE_CODE = bytes.fromhex(
    "3373fffffffffffffffffffffffffffffffffffffffe14604657602036036042575f356001430381116042"
    "57611fff81430311604257611fff9006545f5260205ff35b5f5ffd5b5f35611fff60014303065500"
)
_CREATE2_DEPLOYER_CODE = bytes.fromhex(
    "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe036016000816020823780"
    "35828234f58015156039578182fd5b8082525050506014600cf3"
)


@dataclass(frozen=True, slots=True)
class GenesisAccount:
    """One account of the genesis state."""

    balance: int = 0
    nonce: int = 0
    code: bytes = b""
    storage: Mapping[int, int] = field(default_factory=dict)


SYSTEM_ACCOUNTS: Mapping[Address, GenesisAccount] = MappingProxyType(
    {
        BEACON_ROOTS_ADDRESS: GenesisAccount(nonce=1, code=_BEACON_ROOTS_CODE),
        HISTORY_STORAGE_ADDRESS: GenesisAccount(nonce=1, code=_HISTORY_STORAGE_CODE),
        CREATE2_DEPLOYER_ADDRESS: GenesisAccount(nonce=0, code=_CREATE2_DEPLOYER_CODE),
    }
)
"""The accounts every chain starts with besides the funded ones (see the module docstring)."""


def genesis_state(alloc: Mapping[Address, int]) -> dict[bytes, dict[str, Any]]:
    """The genesis state in the backend's shape: 20-byte address -> balance, nonce, code, storage.

    Args:
        alloc: Wei per funded address. An address that is also a system account keeps its
            code and nonce and gets the balance.
    """
    accounts = {canonical(a): acct for a, acct in SYSTEM_ACCOUNTS.items()}
    for address, balance in alloc.items():
        key = canonical(address)
        known = accounts.get(key, GenesisAccount())
        accounts[key] = GenesisAccount(balance, known.nonce, known.code, known.storage)
    return {
        key: {
            "balance": acct.balance,
            "nonce": acct.nonce,
            "code": acct.code,
            "storage": dict(acct.storage),
        }
        for key, acct in accounts.items()
    }


def create2_address(deployer: Address, salt: bytes, init_code: bytes) -> Address:
    """EIP-1014: ``keccak(0xff || deployer || salt || keccak(init_code))[12:]``.

    Raises:
        ValueError: ``salt`` is not 32 bytes.
    """
    if len(salt) != 32:
        raise ValueError(f"CREATE2 salt must be 32 bytes, got {len(salt)}")
    return checksum(keccak(b"\xff" + canonical(deployer) + salt + keccak(init_code))[12:])


def create2_deployer_calldata(salt: bytes, init_code: bytes) -> bytes:
    """Calldata that makes the deterministic deployment proxy CREATE2 ``init_code``.

    The contract lands at ``create2_address(CREATE2_DEPLOYER_ADDRESS, salt, init_code)``.

    Raises:
        ValueError: ``salt`` is not 32 bytes.
    """
    if len(salt) != 32:
        raise ValueError(f"CREATE2 salt must be 32 bytes, got {len(salt)}")
    return salt + init_code
