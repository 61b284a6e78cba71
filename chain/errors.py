"""The project's own exceptions.

Every failure a user can cause ends in one of these, named for what went wrong. Backend and
library exceptions are translated at the layer boundary with ``raise ... from err``.

Mempool rejections carry geth's own wording (core/txpool, core/types) in ``str(err)`` so that
experiments and web3 clients see the same messages a geth node would send back.
"""

from __future__ import annotations


class TestbedError(Exception):
    """Base class of every error this project raises on purpose."""

    __test__ = False  # not a pytest test class despite the name


# ---------------------------------------------------------------------------------------------
# Toolchain
# ---------------------------------------------------------------------------------------------


class ToolchainError(TestbedError):
    """A tool the testbed needs (node, npm, a solc binary) is missing or broken."""


class CompilationError(TestbedError):
    """Solidity sources failed to compile. ``errors`` lists ``file:line:col: message`` strings."""

    def __init__(self, errors: list[str] | tuple[str, ...]) -> None:
        self.errors = tuple(errors)
        super().__init__("compilation failed:\n" + "\n".join(self.errors))


# ---------------------------------------------------------------------------------------------
# Mempool admission (geth wording)
# ---------------------------------------------------------------------------------------------


class TxRejected(TestbedError):
    """A transaction was refused by the mempool; nothing about state or the pool changed.

    Rejected (never pooled) is a different outcome from reverted (mined with status 0): the
    latter is reported on the receipt, never raised by ``submit``.
    """

    message = "transaction rejected"

    def __init__(self, detail: str = "") -> None:
        self.detail = detail
        super().__init__(f"{self.message}: {detail}" if detail else self.message)


class OversizedData(TxRejected):
    message = "oversized data"


class TxTypeNotSupported(TxRejected):
    message = "transaction type not supported"


class MaxInitCodeSizeExceeded(TxRejected):
    message = "max initcode size exceeded"


class GasLimitExceeded(TxRejected):
    message = "exceeds block gas limit"


class TipAboveFeeCap(TxRejected):
    message = "max priority fee per gas higher than max fee per gas"


class InvalidSender(TxRejected):
    message = "invalid sender"


class InvalidChainId(TxRejected):
    message = "invalid chain id for signer"


class NonceMax(TxRejected):
    message = "nonce has max value"


class IntrinsicGasTooLow(TxRejected):
    message = "intrinsic gas too low"


class NonceTooLow(TxRejected):
    message = "nonce too low"


class InsufficientFunds(TxRejected):
    message = "insufficient funds for gas * price + value"


class AlreadyKnown(TxRejected):
    message = "already known"


class ReplacementUnderpriced(TxRejected):
    message = "replacement transaction underpriced"


class Underpriced(TxRejected):
    message = "transaction underpriced"


class TxPoolFull(TxRejected):
    message = "txpool is full"


class UnprotectedTx(TxRejected):
    message = "only replay-protected (EIP-155) transactions allowed over RPC"


class AccountLimitExceeded(TxRejected):
    """The sender already holds as many transactions as the per-account limits allow."""

    message = "account limit exceeded"


class MalformedTransaction(TxRejected):
    """The raw bytes are not a decodable signed transaction."""

    message = "rlp: malformed transaction"


# ---------------------------------------------------------------------------------------------
# Execution and chain
# ---------------------------------------------------------------------------------------------


class ExecutionReverted(TestbedError):
    """A call or gas estimate reverted. ``reason`` is the decoded revert reason or custom error."""

    def __init__(self, reason: str | None, data: bytes = b"") -> None:
        self.reason = reason
        self.data = data
        super().__init__(f"execution reverted: {reason}" if reason else "execution reverted")


class InvalidCall(TestbedError):
    """A call or gas estimate could not be executed at all (as opposed to reverting), e.g. gas
    below the intrinsic cost or a value above the sender's balance."""


class GasEstimationFailed(TestbedError):
    """The call fails even with the whole block gas limit (and did not revert)."""


class BundleRejected(TestbedError):
    """A bundle was malformed (empty, wrong target, undecodable or invalid member)."""


class UnknownTransaction(TestbedError):
    """No transaction, receipt or pool entry with that hash."""


class UnknownBlock(TestbedError):
    """No block with that number or hash."""


class UnknownSnapshot(TestbedError):
    """``revert`` was given a snapshot id that does not exist (or was already consumed)."""


class UnknownContract(TestbedError):
    """``deploy`` or a lookup named a contract no compiled artifact provides."""


# ---------------------------------------------------------------------------------------------
# Added for mempool admission (Prague)
# ---------------------------------------------------------------------------------------------


class FloorDataGasTooLow(IntrinsicGasTooLow):
    """EIP-7623: the gas limit covers intrinsic gas but not the calldata floor.

    A subclass of :class:`IntrinsicGasTooLow` (callers catching that still see it) that
    carries geth's own wording for this case (``core.ErrFloorDataGas``).
    """

    message = "insufficient gas for floor data gas cost"


class EmptyAuthorizationList(TxRejected):
    """A set-code (EIP-7702) tx without authorization tuples (geth's txpool wording)."""

    message = "set code tx must have at least one authorization tuple"


class GappedNonceFromDelegated(TxRejected):
    """A nonce-gapped tx from a delegated account, or one a pooled set-code tx delegates."""

    message = "gapped-nonce tx from delegated accounts"


class InflightTxLimit(TxRejected):
    """A second in-flight tx from a delegated account (only a replacement is admitted)."""

    message = "in-flight transaction limit reached for delegated accounts"


class AuthorityReserved(TxRejected):
    """A set-code tx naming an authority that already has more than one tx pooled."""

    message = "authority already reserved"
