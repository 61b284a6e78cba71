"""Cheat codes under the names anvil and Hardhat use, mapped onto :class:`Chain` methods.

Params and answers follow anvil (``alloy-provider``'s ``AnvilApi``) for ``anvil_*`` and
Hardhat for ``hardhat_*``: anvil answers null where Hardhat answers true. Where the two
disagree on units, anvil wins: ``evm_setIntervalMining`` takes seconds, as anvil's does
(Hardhat's takes milliseconds). A value the chain cannot hold is an invalid-params error
(-32602), never a half-applied change (see :mod:`agentbed.chain.cheats`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agentbed.chain.cheats import InvalidCheatValue
from agentbed.chain.provider import encoding as enc
from agentbed.chain.provider import params as prm
from agentbed.chain.provider.errors import InvalidParams

if TYPE_CHECKING:
    from agentbed.chain.node import Chain

MAX_MINE = 10_000
"""Most blocks one ``anvil_mine`` call seals: each is a full block build, so a typo of a large
count would otherwise hold the server for minutes."""


def mine_blocks(chain: Chain, params: list[Any]) -> None:
    """``anvil_mine`` / ``hardhat_mine([blocks], [interval])``: seal ``blocks`` (default 1).

    Blocks are one simulated block interval apart; an ``interval`` other than that is refused
    rather than ignored.
    """
    raw_blocks, raw_interval = prm.args(params, 0, 2)
    blocks = 1 if raw_blocks is None else prm.quantity(raw_blocks, "blocks")
    if not 0 <= blocks <= MAX_MINE:
        raise InvalidParams(f"blocks must be in 0..{MAX_MINE}, got {blocks}")
    if raw_interval is not None:
        interval = prm.quantity(raw_interval, "interval")
        if interval * 1000 != chain.clock.block_interval_ms:
            raise InvalidParams(
                f"interval {interval} s is not supported: blocks are "
                f"{chain.clock.block_interval_ms / 1000:g} s apart on this chain"
            )
    chain.mine(blocks)


def _cheat(apply: Callable[[Chain, list[Any]], Any]) -> Callable[[Chain, list[Any]], Any]:
    """``apply`` with the chain's :class:`InvalidCheatValue` answered as invalid params."""

    def handler(chain: Chain, params: list[Any]) -> Any:
        try:
            return apply(chain, params)
        except InvalidCheatValue as err:
            raise InvalidParams(str(err)) from err

    handler.__doc__ = apply.__doc__
    return handler


def _answer(result: Any, apply: Callable[[Chain, list[Any]], Any]) -> Callable[..., Any]:
    """A handler running ``apply`` and answering ``result`` (anvil's null, Hardhat's true)."""
    run = _cheat(apply)

    def handler(chain: Chain, params: list[Any]) -> Any:
        run(chain, params)
        return result

    handler.__doc__ = apply.__doc__
    return handler


def set_balance(chain: Chain, params: list[Any]) -> None:
    """``(address, wei)``."""
    address, wei = prm.args(params, 2, 2)
    chain.set_balance(prm.address(address, "address"), prm.quantity(wei, "balance"))


def set_code(chain: Chain, params: list[Any]) -> None:
    """``(address, code)``."""
    address, code = prm.args(params, 2, 2)
    chain.set_code(prm.address(address, "address"), prm.data(code, "code"))


def set_storage_at(chain: Chain, params: list[Any]) -> None:
    """``(address, slot, value)``: the value is a 32-byte word."""
    address, slot, value = prm.args(params, 3, 3)
    chain.set_storage_at(
        prm.address(address, "address"), prm.storage_slot(slot), prm.hash32(value, "value")
    )


def set_nonce(chain: Chain, params: list[Any]) -> None:
    """``(address, nonce)``."""
    address, nonce = prm.args(params, 2, 2)
    chain.set_nonce(prm.address(address, "address"), prm.quantity(nonce, "nonce"))


def impersonate(chain: Chain, params: list[Any]) -> None:
    """``(address)``: txs from it need no key (``eth_sendTransaction`` signs for it)."""
    (address,) = prm.args(params, 1, 1)
    chain.impersonate_account(prm.address(address, "address"))


def stop_impersonating(chain: Chain, params: list[Any]) -> None:
    """``(address)``."""
    (address,) = prm.args(params, 1, 1)
    chain.stop_impersonating_account(prm.address(address, "address"))


def increase_time(chain: Chain, params: list[Any]) -> int:
    """``evm_increaseTime(seconds)``: the total seconds added so far (anvil's answer)."""
    (seconds,) = prm.args(params, 1, 1)
    return chain.increase_time(prm.quantity(seconds, "seconds"))


def drop_transaction(chain: Chain, params: list[Any]) -> str | None:
    """``anvil_dropTransaction(hash)``: the hash if it was pooled, else null."""
    (tx_hash,) = prm.args(params, 1, 1)
    key = prm.hash32(tx_hash, "transaction hash")
    return enc.hex_data(key) if chain.drop_transaction(key) else None


def hardhat_drop_transaction(chain: Chain, params: list[Any]) -> bool:
    """``hardhat_dropTransaction(hash)``: whether it was pooled."""
    return drop_transaction(chain, params) is not None


def set_automine(chain: Chain, params: list[Any]) -> None:
    """``(enabled)``; turning automine on ends interval mining."""
    (enabled,) = prm.args(params, 1, 1)
    if not isinstance(enabled, bool):
        raise InvalidParams(f"automine flag must be a boolean, got {enabled!r}")
    chain.set_automine(enabled)


def set_interval_mining(chain: Chain, params: list[Any]) -> None:
    """``(seconds)``: ``testbed node`` mines every that many seconds; 0 stops."""
    (seconds,) = prm.args(params, 1, 1)
    chain.set_interval_mining(prm.uint64(seconds, "interval") * 1000)


def dump_state(chain: Chain, params: list[Any]) -> str:
    """``testbed_dumpState()``: the bytes of a state file of the chain as it is now (what
    ``testbed node --load-state`` and ``state_io.load_state`` read). Not ``anvil_dumpState``:
    anvil's format is another, and its ``anvil_loadState`` merges into a running chain."""
    from agentbed.chain.state_io import dump_state as state_file

    prm.args(params, 0, 0)
    return enc.hex_data(state_file(chain))


CHEAT_METHODS = {
    "anvil_mine": mine_blocks,
    "hardhat_mine": mine_blocks,
    "anvil_setBalance": _answer(None, set_balance),
    "hardhat_setBalance": _answer(True, set_balance),
    "anvil_setCode": _answer(None, set_code),
    "hardhat_setCode": _answer(True, set_code),
    "anvil_setStorageAt": _answer(True, set_storage_at),
    "hardhat_setStorageAt": _answer(True, set_storage_at),
    "anvil_setNonce": _answer(None, set_nonce),
    "hardhat_setNonce": _answer(True, set_nonce),
    "anvil_impersonateAccount": _answer(None, impersonate),
    "hardhat_impersonateAccount": _answer(True, impersonate),
    "anvil_stopImpersonatingAccount": _answer(None, stop_impersonating),
    "hardhat_stopImpersonatingAccount": _answer(True, stop_impersonating),
    "evm_increaseTime": _cheat(increase_time),
    "anvil_increaseTime": _cheat(increase_time),
    "anvil_dropTransaction": _cheat(drop_transaction),
    "hardhat_dropTransaction": _cheat(hardhat_drop_transaction),
    "anvil_setAutomine": _answer(None, set_automine),
    "evm_setIntervalMining": _answer(None, set_interval_mining),
    "anvil_setIntervalMining": _answer(None, set_interval_mining),
    "testbed_dumpState": dump_state,
}
"""The cheat codes, for the provider's method table."""
