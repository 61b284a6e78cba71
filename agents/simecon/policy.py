"""The sim-economy's agents: the paper's rule policy, and the compute meter that closes turns.

:class:`RulePolicy` is the paper's deterministic harness policy (section 3.2 and its
``choose_actions``), one action per turn, first rule that fires:

1. balance < ``job_below`` -> ``job``. The paper's code, which produced its numbers, uses
   -180; its text says 180. The default follows the code (docs/sim-economy.md).
2. stake > 0 and turn % 15 == 0 -> ``unstake``.
3. balance > 360, stake < 220 and (turn + index) % 7 == 0 -> ``stake(80)``.
4. balance > 600 and (turn + index) % 11 == 0 -> ``burn(50)``.
5. balance > 450, turn % 13 == 0 and not the poorest agent -> ``transfer(20, fee 1)`` to the
   poorest.
6. balance > 250 and turn % 10 == 0 -> ``study``.
7. otherwise ``mine``.

:class:`ComputeMeter` stands for the inference provider: once every agent has acted in the open
turn (or the turn has been open for ``stall_blocks`` blocks), it reports each agent's thinking
and output units, drawn uniformly from [50, 350] and [40, 280] as the paper's harness does, from
its own random stream (derived from the root seed), and closes the turn. A turn thus takes two
blocks: the agents' actions, then the close.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from agentbed.agents.agent import Action, Agent, AgentView, Schedule

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from agentbed.agents.simecon.world import SimWorld, Snapshot


def _world(view: AgentView) -> SimWorld:
    from agentbed.agents.simecon.world import SimWorld

    if not isinstance(view.market, SimWorld):
        raise TypeError(f"sim-economy agents run on a SimWorld, got {type(view.market).__name__}")
    return view.market


def rule_action(
    turn: int, index: int, snap: Snapshot, *, job_below: int = -180
) -> tuple[str, tuple[int, ...]]:
    """The paper's rule for agent ``index`` in ``turn``: an action name and its arguments.

    ``transfer``'s first argument is the poorest agent's index (the caller maps it to an
    address); ties go to the lowest index, as Python's ``min`` does in the paper's harness.
    """
    balance = snap.balances[index]
    staked = snap.staked[index]
    poorest = min(range(len(snap.balances)), key=lambda i: snap.balances[i])
    if balance < job_below:
        return "job", ()
    if staked > 0 and turn % 15 == 0:
        return "unstake", ()
    if balance > 360 and staked < 220 and (turn + index) % 7 == 0:
        return "stake", (80,)
    if balance > 600 and (turn + index) % 11 == 0:
        return "burn", (50,)
    if balance > 450 and turn % 13 == 0 and poorest != index:
        return "transfer", (poorest, 20, 1)
    if balance > 250 and turn % 10 == 0:
        return "study", ()
    return "mine", ()


class RulePolicy(Agent):
    """The paper's rule policy as an agent (module docstring); acts once per open turn.

    Args:
        job_below: Balance below which the agent takes a job (-180: the paper's code).
    """

    wants_blocks = True

    def __init__(
        self,
        name: str,
        account: LocalAccount,
        rng: random.Random,
        schedule: Schedule | None = None,
        *,
        job_below: int = -180,
    ) -> None:
        super().__init__(name, account, rng, schedule)
        self.job_below = job_below
        self._sent_turn = 0

    def observe(self, view: AgentView) -> Sequence[Action]:
        world = _world(view)
        snap = world.snapshot(view.reader)
        index = world.index_of(self.address)
        turn = snap.turn
        if turn > world.params.turns or snap.acted_turn[index] >= turn or self._sent_turn >= turn:
            return ()
        name, args = rule_action(turn, index, snap, job_below=self.job_below)
        self._sent_turn = turn
        if name == "transfer":
            poorest, amount, fee = args
            return (world.action(name, world.agents[poorest], amount, fee),)
        return (world.action(name, *args),)


class ComputeMeter(Agent):
    """The inference provider: meters every agent and closes each turn (module docstring).

    Args:
        thinking: Inclusive range of an agent's thinking units per turn.
        output: Inclusive range of an agent's output units per turn.
        stall_blocks: Blocks a turn may stay open without every agent's action before the
            meter closes it anyway (an agent whose action reverted sits the turn out).
    """

    wants_blocks = True

    def __init__(
        self,
        name: str,
        account: LocalAccount,
        rng: random.Random,
        schedule: Schedule | None = None,
        *,
        thinking: Sequence[int] = (50, 350),
        output: Sequence[int] = (40, 280),
        stall_blocks: int = 3,
    ) -> None:
        super().__init__(name, account, rng, schedule)
        for what, bounds in (("thinking", thinking), ("output", output)):
            if len(bounds) != 2 or not 0 <= bounds[0] <= bounds[1]:
                raise ValueError(f"{what} must be [low, high] with 0 <= low <= high, got {bounds}")
        if stall_blocks < 1:
            raise ValueError(f"stall_blocks must be >= 1, got {stall_blocks}")
        self.thinking = (int(thinking[0]), int(thinking[1]))
        self.output = (int(output[0]), int(output[1]))
        self.stall_blocks = stall_blocks
        self._first_seen: dict[int, int] = {}
        self._closed_turn = 0

    def observe(self, view: AgentView) -> Sequence[Action]:
        world = _world(view)
        snap = world.snapshot(view.reader)
        turn = snap.turn
        if turn > world.params.turns or self._closed_turn >= turn:
            return ()
        seen = self._first_seen.setdefault(turn, snap.block)
        everyone = all(acted >= turn for acted in snap.acted_turn)
        if not everyone and snap.block - seen < self.stall_blocks:
            return ()
        # One draw per agent, thinking then output, in ledger order (the paper's harness order).
        units = [
            (self.rng.randint(*self.thinking), self.rng.randint(*self.output)) for _ in world.agents
        ]
        self._closed_turn = turn
        return (world.close_turn([t for t, _ in units], [o for _, o in units]),)
