"""Calls and state reads as :class:`~agentbed.chain.node.Chain` methods.

``Chain`` inherits them from :class:`ChainReads` (``chain/node.py`` is at its size limit): calls
at the head or at a past block (with optional EIP-7702 authorizations applied first), gas
estimates, read-only replays of a block's txs, Merkle proofs of accounts and storage
(EIP-1186) and the access list a call needs (EIP-2930). None of them changes the chain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from agentbed.chain import calls, stateproofs
from agentbed.chain.types import Address, Authorization, Block, Receipt, Transaction

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from agentbed.chain.abi import AbiRegistry
    from agentbed.chain.backend import PyEVMBackend


class ChainReads:
    """Read-only execution methods of :class:`~agentbed.chain.node.Chain`."""

    if TYPE_CHECKING:  # what the methods use of Chain, declared for the type checker
        backend: PyEVMBackend
        abi: AbiRegistry
        accounts: tuple[LocalAccount, ...]
        decode: Callable[[bytes], Transaction]

        @property
        def gas_limit(self) -> int: ...

        def block(self, number: int | str = "latest") -> Block: ...

    def call(
        self,
        to: Address | None,
        data: bytes = b"",
        *,
        sender: Address | None = None,
        value: int = 0,
        gas: int = 0,
        block_number: int | None = None,
        auths: Sequence[Authorization] = (),
    ) -> bytes:
        """Execute against the head state, or block ``block_number``'s post-state (geth's
        eth_call at a block number); return the output. With ``auths``, the call runs as a
        set-code tx carrying those EIP-7702 authorizations.

        Raises:
            ExecutionReverted: the call reverted (reason decoded when the ABI is known).
            UnknownBlock: no block ``block_number``.
        """
        return calls.call(
            self.backend,
            self.abi,
            sender=calls.default_sender(sender, self.accounts),
            to=to,
            data=data,
            value=value,
            gas=gas,
            block_number=block_number,
            auths=auths,
        )

    def replay(self, raw_txs: Sequence[bytes], block_number: int) -> tuple[Receipt | None, ...]:
        """Receipts of ``raw_txs`` re-run on block ``block_number``'s parent state, read-only.

        ``None`` for a tx that block could not have included (see ``calls.replay``).
        """
        return calls.replay(self.backend, self.abi, self.decode, raw_txs, self.block(block_number))

    def estimate_gas(
        self,
        *,
        sender: Address | None = None,
        to: Address | None = None,
        data: bytes = b"",
        value: int = 0,
        auths: Sequence[Authorization] = (),
    ) -> int:
        """Least gas limit at which the tx succeeds (with ``auths`` applied, if given).

        Raises:
            GasEstimationFailed: even the block gas limit is not enough.
            ExecutionReverted: the tx reverts.
        """
        return calls.estimate_gas(
            self.backend,
            self.abi,
            sender=calls.default_sender(sender, self.accounts),
            to=to,
            data=data,
            value=value,
            gas_limit=self.gas_limit,
            auths=auths,
        )

    def get_proof(
        self, address: Address, slots: Sequence[int] = (), block_number: int | None = None
    ) -> stateproofs.AccountProof:
        """``address``'s fields and Merkle proofs (and of ``slots``) at the head or a block.

        Raises:
            UnknownBlock: no block ``block_number``.
        """
        return stateproofs.account_proof(self.backend, address, slots, block_number)

    def create_access_list(
        self,
        to: Address | None,
        data: bytes = b"",
        *,
        sender: Address | None = None,
        value: int = 0,
        gas: int = 0,
        block_number: int | None = None,
    ) -> stateproofs.AccessListResult:
        """The access list the call needs and its gas with that list (geth's rules).

        Raises:
            InvalidCall: the call cannot run at all.
            UnknownBlock: no block ``block_number``.
        """
        return stateproofs.create_access_list(
            self.backend,
            sender=calls.default_sender(sender, self.accounts),
            to=to,
            data=data,
            value=value,
            gas=gas,
            block_number=block_number,
        )
