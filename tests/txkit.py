"""Driving contracts on a :class:`~agentbed.chain.node.Chain` from tests: the one shared kit.

Every suite that deploys contracts sends calls with :func:`send`, checks them with :func:`ok`
or :func:`reverts` (a revert is checked by its decoded custom error, in full or by name), reads
what they emitted with :func:`events` and reads views with :func:`view`. The stateful suites
run their Hypothesis machines on chain snapshots with :func:`snapshot_machine` and
:func:`run_counted_machine`.

Calls are sent with a fixed gas limit: it skips the estimate, so a reverting call is mined and
its reason decoded instead of being refused at submission. :func:`tx_helpers` binds a suite's
limit once, so its tests read ``ok(chain, alice, call)``.

The raw signed transactions of the mempool and codec unit tests are another concept and live
in ``rawtxkit``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

from eth_abi import decode
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from agentbed.chain.node import Chain
from agentbed.chain.types import Receipt

# ---------------------------------------------------------------------------------------------
# sending and checking transactions
# ---------------------------------------------------------------------------------------------


def send(
    chain: Chain, sender: LocalAccount, call: Any, *, gas: int, at: int | None = None
) -> Receipt:
    """Sign, submit and mine ``call`` from ``sender``; return its receipt, whatever the status.

    Args:
        chain: The chain to send on (automining).
        sender: The signing account.
        call: A web3 contract function call (``contract.functions.f(args)``).
        gas: The fixed gas limit.
        at: Seal the block holding it at this timestamp (seconds), if given.
    """
    if at is not None:
        chain.set_next_block_time(at * 1000)
    return chain.receipt(chain.transact(sender, call, gas=gas))


def error_name(reason: str) -> str:
    """The custom error's name in a decoded revert reason (``"EscrowNotParty(0x..)"``)."""
    return reason.split("(")[0]


def assert_ok(rec: Receipt) -> Receipt:
    """``rec`` succeeded (the revert reason is the message otherwise); return it."""
    assert rec.status == 1, rec.revert_reason
    return rec


def assert_reverted(rec: Receipt, reason: str | None = None, *, error: str | None = None) -> str:
    """``rec`` reverted with a decoded reason; return that reason.

    Args:
        rec: The mined receipt.
        reason: The exact reason expected, arguments included (``"StakingZeroAmount()"``).
        error: The custom error's name expected, whatever its arguments.
    """
    assert rec.status == 0, "expected a revert"
    assert rec.revert_reason is not None, "reverted without a decoded reason"
    if reason is not None:
        assert rec.revert_reason == reason
    if error is not None:
        assert error_name(rec.revert_reason) == error, rec.revert_reason
    return rec.revert_reason


def ok(
    chain: Chain, sender: LocalAccount, call: Any, *, gas: int, at: int | None = None
) -> Receipt:
    """:func:`send` ``call`` and check that it succeeded; return the receipt."""
    return assert_ok(send(chain, sender, call, gas=gas, at=at))


def reverts(
    chain: Chain,
    sender: LocalAccount,
    call: Any,
    reason: str | None = None,
    *,
    error: str | None = None,
    gas: int,
    at: int | None = None,
) -> str:
    """:func:`send` ``call``, check that it reverted (see :func:`assert_reverted`); return why."""
    return assert_reverted(send(chain, sender, call, gas=gas, at=at), reason, error=error)


class TxHelpers(NamedTuple):
    """:func:`send`, :func:`ok` and :func:`reverts` with one suite's gas limit bound."""

    send: Callable[..., Receipt]
    ok: Callable[..., Receipt]
    reverts: Callable[..., str]


def tx_helpers(gas: int) -> TxHelpers:
    """The helpers with ``gas`` bound (a call may still pass its own ``gas=``)."""
    return TxHelpers(partial(send, gas=gas), partial(ok, gas=gas), partial(reverts, gas=gas))


# ---------------------------------------------------------------------------------------------
# reading what happened
# ---------------------------------------------------------------------------------------------


def events(
    rec: Receipt, contract: Any = None, *, name: str | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """``(name, args)`` of the events in ``rec``, in log order.

    Args:
        rec: The mined receipt.
        contract: Only the events this contract emitted. Without it every log of ``rec`` must
            have been decoded (an undecoded log means an ABI the test did not expect).
        name: Only the events of this name.
    """
    out = []
    for log in rec.logs:
        if contract is None:
            assert log.event is not None, f"undecoded log {log.log_index} from {log.address}"
        elif log.event is None or log.address != contract.address:
            continue
        if name is None or log.event.name == name:
            # a copy: receipts are kept by the chain, so a test must not edit their events
            out.append((log.event.name, dict(log.event.args)))
    return out


def view(chain: Chain, call: Any) -> Any:
    """Call a view at the head through the chain (faster than web3's eth_call round trip)."""
    out = chain.call(call.address, bytes.fromhex(call._encode_transaction_data()[2:]))
    values = decode([o["type"] for o in call.abi["outputs"]], out)
    return values[0] if len(values) == 1 else tuple(values)


# ---------------------------------------------------------------------------------------------
# state machines on chain snapshots
# ---------------------------------------------------------------------------------------------


def snapshot_machine(chain: Chain, steps_run: list[int]) -> type[RuleBasedStateMachine]:
    """A machine base class whose examples each run on a chain snapshot and count their steps.

    Subclasses add to ``self.steps``; at teardown the count is appended to ``steps_run`` (for
    ``run_counted_machine``) and the chain is reverted to the snapshot.
    """

    class SnapshotMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot_id = chain.snapshot()
            self.steps = 0

        def teardown(self) -> None:
            steps_run.append(self.steps)
            chain.revert(self.snapshot_id)

    return SnapshotMachine


STATEFUL_STEPS = 50
"""Rules per example of the counted state machines."""


def run_counted_machine(
    make_machine: Callable[[list[int]], type[RuleBasedStateMachine]],
    *,
    max_examples: int,
    min_steps: int | None = None,
) -> None:
    """Run the machine ``make_machine(steps_run)`` builds, then check it really ran.

    The machine appends the number of rules each example ran to ``steps_run`` at teardown;
    fewer than ``min_steps`` in all (default: half of the most the examples can run) means the
    rules' preconditions starved the run. Hypothesis ends some examples early on its own, so
    demanding every possible step would fail at random.
    """
    steps_run: list[int] = []
    floor = max_examples * STATEFUL_STEPS // 2 if min_steps is None else min_steps
    run_state_machine_as_test(
        make_machine(steps_run),
        settings=settings(
            max_examples=max_examples,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    assert sum(steps_run) >= floor, steps_run
