"""The simulation loop driven one block at a time, with the learners' decisions taken from outside.

:class:`SteppedSimulation` is the scenario's own :class:`~agentbed.agents.sim.Simulation` (same
set-up, same event heap, same blocks) whose loop is run by the caller instead of ``run()``: it
stops at a **decision time**, ``decide_before_ms`` before each block, where the caller reads
each learner's view and hands in its actions; ``advance`` then runs the events up to the next
decision time (through exactly one block). The learners are ordinary agents of the scenario
(funded, set up by their strategy's ``setup``, e.g. token approvals), taken off every wake
source so that only the caller decides for them; everyone else keeps their schedule.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

from agentbed.agents.agent import Action, Agent, AgentView, NoSchedule
from agentbed.agents.sim import Simulation


def seat(agent: Agent) -> None:
    """Take ``agent`` off every wake source: no own schedule, no pending-tx or block wakes.

    Call it before the simulation is made (it reads the switches when it is created).
    """
    agent.schedule = NoSchedule()
    agent.wants_pending = False
    agent.wants_blocks = False


@dataclass
class SteppedSimulation(Simulation):
    """A simulation that pauses before each block for outside decisions.

    Args:
        decide_before_ms: How long before each block the loop pauses (less than the block
            interval).
    """

    decide_before_ms: int = 0
    _target: int = field(default=-1, init=False)

    def __post_init__(self) -> None:
        Simulation.__post_init__(self)
        interval = self.chain.clock.block_interval_ms
        if not 0 <= self.decide_before_ms < interval:
            raise ValueError(
                f"decide_before_ms must be in [0, {interval}) (the block interval), "
                f"got {self.decide_before_ms}"
            )

    def begin(self) -> None:
        """Set up (as ``run`` does) and run to the first decision time."""
        self._target = self._start()
        self._run_events(self.chain.block_number)

    @property
    def done(self) -> bool:
        """Whether all of the scenario's blocks are built."""
        return self._target >= 0 and self.chain.block_number >= self._target

    @property
    def now_ms(self) -> int:
        """The current decision time."""
        return self._next_block_ms() - self.decide_before_ms

    def view_of(self, agent: Agent) -> AgentView:
        """``agent``'s view at the decision time, with the mempool as it has reached it (a
        seated learner does not watch the mempool, but sees it when it decides)."""
        now = self.now_ms
        view = self._view(agent, "schedule", now, None)
        return dataclasses.replace(view, pending=self.chain.mempool_view(agent.name, now))

    def act(self, agent: Agent, actions: Sequence[Action]) -> None:
        """Sign and submit ``agent``'s actions at the decision time."""
        self._apply(agent, actions, self.now_ms)

    def advance(self) -> tuple[int, ...]:
        """Run through the next block to the decision time after it (or the end).

        Returns:
            The numbers of the blocks sealed on the way (one; none once done).
        """
        if self._target < 0:
            raise RuntimeError("call begin() first")
        first = self.chain.block_number
        if not self.done:
            self._run_events(first + 1)
        return tuple(range(first + 1, self.chain.block_number + 1))

    def _run_events(self, until_block: int) -> None:
        """Handle events until block ``until_block`` is sealed and the next event is at or
        after the decision time (or the run is done)."""
        while not self.done:
            if self.chain.block_number >= until_block and self._heap[0][0] >= self.now_ms:
                return
            time_ms, _, _, handler = heapq.heappop(self._heap)
            handler(time_ms)
