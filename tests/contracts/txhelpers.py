"""Transaction and state-machine helpers shared by contract test files (imported, not collected)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_abi import decode
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from agentbed.chain.node import Chain
from agentbed.chain.types import Receipt

Sender = Callable[[Chain, LocalAccount, Any], Receipt]


def tx_helpers(gas: int) -> tuple[Sender, Sender, Callable[..., Receipt]]:
    """``send``, ``ok`` and ``reverts`` that submit with a fixed ``gas`` limit.

    A fixed limit skips estimation, so reverting calls are mined and their reason decoded.
    """

    def send(chain: Chain, sender: LocalAccount, call: Any) -> Receipt:
        """Sign, submit and mine ``call`` from ``sender`` with a fixed gas limit."""
        return chain.receipt(chain.transact(sender, call, gas=gas))

    def ok(chain: Chain, sender: LocalAccount, call: Any) -> Receipt:
        rec = send(chain, sender, call)
        assert rec.status == 1, rec.revert_reason
        return rec

    def reverts(chain: Chain, sender: LocalAccount, call: Any, reason: str) -> Receipt:
        rec = send(chain, sender, call)
        assert rec.status == 0
        assert rec.revert_reason == reason
        return rec

    return send, ok, reverts


def events(rec: Receipt, contract: Any) -> list[tuple[str, dict[str, Any]]]:
    """``(name, args)`` of the decoded events ``contract`` emitted in ``rec``."""
    return [
        (log.event.name, log.event.args)
        for log in rec.logs
        if log.event is not None and log.address == contract.address
    ]


def view(chain: Chain, call: Any) -> Any:
    """Call a view at the head through the chain (faster than web3's eth_call round trip)."""
    out = chain.call(call.address, bytes.fromhex(call._encode_transaction_data()[2:]))
    values = decode([o["type"] for o in call.abi["outputs"]], out)
    return values[0] if len(values) == 1 else tuple(values)


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
