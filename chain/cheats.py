"""Cheat codes as :class:`~agentbed.chain.node.Chain` methods, the ones anvil and Hardhat offer.

``Chain`` inherits them from :class:`ChainCheats` (``chain/node.py`` is at its size limit)::

    chain.set_balance(whale, 10**24)
    with chain.impersonate(whale):
        chain.transact(whale, token.functions.transfer(me, 10))

What they change and how it stays deterministic and revertible:

- **State** (:meth:`~ChainCheats.set_balance`, ``set_code``, ``set_storage_at``,
  ``set_nonce``) is written into the head state outside any block
  (:mod:`agentbed.chain.statewrites`); the head block keeps its hash, reads at "latest" and
  the next block see the write, and ``snapshot``/``revert`` restore the state exactly.
  Afterwards the pool re-reads every sender's nonce and balance, as after a block.
- **Impersonation** lets a tx "from" any address be signed and admitted without its key
  (:mod:`agentbed.chain.signing` explains the proxy keys). It is a node setting, as on anvil:
  ``revert`` does not undo it. :meth:`~ChainCheats.impersonate` scopes it to a ``with`` block.
- **Time** (``increase_time``, ``set_next_block_timestamp``) moves the simulated clock, never
  a wall clock; ``revert`` restores the clock.
- **Pool** (``drop_transaction``) removes one pooled tx; the sender's later txs wait behind
  the gap, queued, as in geth.
- **Mining mode** (``set_automine``, ``set_interval_mining``): interval mining is a setting
  only; ``testbed node`` mines a block every interval of wall time while it is set (one block
  per tick, each one simulated block interval after the last; see
  :func:`agentbed.chain.interval.mine_on_interval`). In-process there is no wall clock, so it
  only turns automine off.

Every bad value (negative balance, a value, slot or word of ``2**256`` or more, code over
EIP-170's 24,576 bytes, a nonce or timestamp past uint64) raises :class:`InvalidCheatValue`
and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from agentbed.chain.addresses import canonical, checksum
from agentbed.chain.errors import TestbedError
from agentbed.chain.signing import as_bytes
from agentbed.chain.statewrites import write_state
from agentbed.chain.types import Address

if TYPE_CHECKING:
    from agentbed.chain.backend import PyEVMBackend
    from agentbed.chain.clock import SimClock
    from agentbed.chain.interfaces import HeadInfo
    from agentbed.chain.mempool import Mempool
    from agentbed.chain.signing import LocalSigner

UINT256_LIMIT = 2**256
UINT64_LIMIT = 2**64
MAX_CODE_SIZE = 24_576
"""EIP-170's limit on deployed code, which ``set_code`` keeps too."""


class InvalidCheatValue(TestbedError, ValueError):
    """A cheat code got a value the chain cannot hold (out of range, too large, wrong type)."""


def _uint(value: Any, what: str, limit: int) -> int:
    """``value`` as an int in ``[0, limit)``, else :class:`InvalidCheatValue`."""
    if type(value) is not int:
        raise InvalidCheatValue(f"{what} must be an int, got {type(value).__name__}")
    if not 0 <= value < limit:
        bound = "2**256" if limit == UINT256_LIMIT else "2**64"
        raise InvalidCheatValue(f"{what} must be in [0, {bound}), got {value}")
    return value


def _address(value: Any) -> Address:
    try:
        return checksum(value)
    except (TypeError, ValueError) as err:
        raise InvalidCheatValue(f"not an address: {value!r}") from err


def _word(value: int | bytes | str, what: str) -> int:
    """A storage word from an int or up to 32 bytes (hex or bytes), big-endian."""
    if isinstance(value, bytes | str):
        try:
            raw = as_bytes(value)
        except ValueError as err:
            raise InvalidCheatValue(f"{what} is not hex: {value!r}") from err
        if len(raw) > 32:
            raise InvalidCheatValue(f"{what} must be at most 32 bytes, got {len(raw)}")
        return int.from_bytes(raw, "big")
    return _uint(value, what, UINT256_LIMIT)


class ChainCheats:
    """Cheat-code methods of :class:`~agentbed.chain.node.Chain` (see the module docstring)."""

    if TYPE_CHECKING:  # what the methods use of Chain, declared for the type checker
        backend: PyEVMBackend
        mempool: Mempool
        clock: SimClock
        automine: bool
        _signer: LocalSigner

        def head_info(self) -> HeadInfo: ...

        def set_next_block_time(self, timestamp_ms: int) -> None: ...

    mining_interval_ms: int | None = None
    """Wall-clock ms between blocks ``testbed node`` mines on its own; None: no interval mining."""
    time_offset_s: int = 0
    """Seconds :meth:`increase_time` has added so far (anvil's ``evm_increaseTime`` answer)."""

    # -- state ---------------------------------------------------------------------------------

    def _write(self, edit: Any, *, pool: bool) -> None:
        write_state(self.backend, edit)
        if pool:  # nonce or balance changed: pooled txs may be stale or unaffordable now
            self.mempool.resync(state=self.backend, head=self.head_info())

    def set_balance(self, address: Address, wei: int) -> None:
        """Give ``address`` exactly ``wei`` (``anvil_setBalance``)."""
        account = canonical(_address(address))
        wei = _uint(wei, "balance", UINT256_LIMIT)
        self._write(lambda state: state.set_balance(account, wei), pool=True)

    def set_code(self, address: Address, code: bytes | str) -> None:
        """Replace the code at ``address`` (``anvil_setCode``); empty code removes it."""
        account = canonical(_address(address))
        try:
            runtime = as_bytes(code)
        except (TypeError, ValueError) as err:
            raise InvalidCheatValue(f"code is not bytes or hex: {code!r}") from err
        if len(runtime) > MAX_CODE_SIZE:
            raise InvalidCheatValue(
                f"code of {len(runtime)} bytes exceeds the {MAX_CODE_SIZE}-byte limit (EIP-170)"
            )
        self._write(lambda state: state.set_code(account, runtime), pool=False)

    def set_storage_at(
        self, address: Address, slot: int | bytes | str, value: int | bytes | str
    ) -> None:
        """Write one storage word of ``address`` (``anvil_setStorageAt``)."""
        account = canonical(_address(address))
        key, word = _word(slot, "slot"), _word(value, "value")
        self._write(lambda state: state.set_storage(account, key, word), pool=False)

    def set_nonce(self, address: Address, nonce: int) -> None:
        """Set the account nonce of ``address`` (``anvil_setNonce``); pooled txs of the
        sender below it are evicted, those above it wait for their turn."""
        account = canonical(_address(address))
        nonce = _uint(nonce, "nonce", UINT64_LIMIT)
        self._write(lambda state: state.set_nonce(account, nonce), pool=True)

    # -- impersonation -------------------------------------------------------------------------

    def impersonate_account(self, address: Address) -> None:
        """Accept txs from ``address`` without its key (``anvil_impersonateAccount``):
        ``transact``, ``sign`` and ``eth_sendTransaction`` then work for it."""
        self._signer.impersonate(_address(address))

    def stop_impersonating_account(self, address: Address) -> None:
        """Undo :meth:`impersonate_account` (``anvil_stopImpersonatingAccount``)."""
        self._signer.stop(_address(address))

    @property
    def impersonated_accounts(self) -> tuple[Address, ...]:
        """The addresses impersonated now, in the order they were impersonated."""
        return tuple(self._signer.impersonated)

    @contextmanager
    def impersonate(self, address: Address) -> Iterator[Address]:
        """Impersonate ``address`` inside a ``with`` block; yields its checksummed form.

        Impersonation stops on leaving the block, unless it was already on before.
        """
        address = _address(address)
        already = address in self._signer.impersonated
        self.impersonate_account(address)
        try:
            yield address
        finally:
            if not already:
                self.stop_impersonating_account(address)

    # -- time ----------------------------------------------------------------------------------

    def increase_time(self, seconds: int) -> int:
        """Move the simulated clock ``seconds`` forward (``evm_increaseTime``); the next block
        is sealed no earlier. Returns the total seconds added this way so far."""
        seconds = _uint(seconds, "seconds", UINT64_LIMIT)
        target_ms = self.clock.now_ms + seconds * 1000
        if target_ms // 1000 >= UINT64_LIMIT:
            raise InvalidCheatValue(f"the clock would pass uint64 seconds ({target_ms // 1000})")
        self.clock.advance_to(target_ms)
        self.time_offset_s += seconds
        return self.time_offset_s

    def set_next_block_timestamp(self, seconds: int) -> None:
        """Seal the next block at ``seconds`` (``evm_setNextBlockTimestamp``).

        Raises:
            InvalidCheatValue: past uint64, before the clock, or not after the head block.
        """
        seconds = _uint(seconds, "timestamp", UINT64_LIMIT)
        try:
            self.set_next_block_time(seconds * 1000)
        except ValueError as err:
            raise InvalidCheatValue(str(err)) from err

    # -- pool and mining -----------------------------------------------------------------------

    def drop_transaction(self, tx_hash: bytes | str) -> bool:
        """Remove a pooled tx (``anvil_dropTransaction``); False if it is not in the pool."""
        return self.mempool.drop(as_bytes(tx_hash)) is not None

    def set_automine(self, enabled: bool) -> None:
        """Mine after every accepted submit, or not; turning it on ends interval mining."""
        if not isinstance(enabled, bool):
            raise InvalidCheatValue(f"automine must be a bool, got {enabled!r}")
        self.automine = enabled
        if enabled:
            self.mining_interval_ms = None

    def set_interval_mining(self, interval_ms: int) -> None:
        """Mine every ``interval_ms`` of wall time in ``testbed node`` (0 stops); a positive
        interval turns automine off."""
        interval_ms = _uint(interval_ms, "interval", UINT64_LIMIT)
        self.mining_interval_ms = interval_ms or None
        if interval_ms:
            self.automine = False
