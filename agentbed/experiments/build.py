"""Setting a scenario up: the chain, the study's world, the agents and their funding.

``build`` fans the one root seed out with :func:`agentbed.agents.agent.derive_seed` to every
component: the chain (account keys, prevrandao, the policy's per-block RNG), the latency model,
each agent's random stream and schedule, and whatever the study seeds itself (e.g. a
reference-price walk).
"""

from __future__ import annotations

import random
from typing import IO, TYPE_CHECKING

from agentbed.agents.agent import Agent, derive_seed
from agentbed.experiments.schema import AgentGroup, Scenario
from agentbed.experiments.studies import resolve_study

if TYPE_CHECKING:
    from agentbed.agents.blockprod.loop import LoopProducer
    from agentbed.agents.eventlog import EventLog
    from agentbed.agents.sim import Simulation
    from agentbed.agents.study import Study, World
    from agentbed.chain.interfaces import LatencyModel, OrderingPolicy
    from agentbed.chain.node import Chain

_MAX_FUNDING_BLOCKS = 100


def make_latency(scenario: Scenario, root: int) -> LatencyModel:
    """The scenario's latency model, seeded from the root seed."""
    from agentbed.chain.latency import ConstantLatency, PerObserverLatency, RandomLatency
    from agentbed.chain.node import BUILDER

    config = scenario.latency
    if config.model == "per-agent":
        delays = {BUILDER: config.builder_ms}
        if scenario.block_production is not None:  # competing builders see as the builder does
            delays.update(
                dict.fromkeys(
                    (b.name for b in scenario.block_production.builders), config.builder_ms
                )
            )
        for group in scenario.agents:
            if group.latency_ms is not None:
                delays.update(dict.fromkeys(group.agent_names(), group.latency_ms))
        return PerObserverLatency(delays, default_ms=config.default_ms)
    if config.model == "random":
        return RandomLatency(derive_seed(root, "latency"), config.low_ms, config.high_ms)
    return ConstantLatency(config.ms)


def build(
    scenario: Scenario,
    *,
    policy: str | OrderingPolicy | None = None,
    seed: int | None = None,
    log: EventLog | None = None,
    progress: IO[str] | None = None,
) -> tuple[Simulation, World]:
    """Set up a scenario's chain, its study's world and its agents, ready to ``run()``.

    The study deploys its contracts (``Study.deploy``); then the agents are created with their
    parameters, schedules and random streams, and their funding is minted (set-up blocks before
    the simulation's own).

    Args:
        scenario: A loaded scenario.
        policy: Ordering policy (a canonical name, with the scenario's params for it, or an
            instance); default: the scenario's.
        seed: Root seed; default: the scenario's.
        log: Event log for the simulation.
        progress: Stream for the progress bar.

    Returns:
        The simulation (not yet run) and the study's world it runs against (the world the
        simulation hands to every agent's view).
    """
    from agentbed.agents.sim import Simulation
    from agentbed.chain.node import Chain

    study = resolve_study(scenario.study)
    root = scenario.run.seed if seed is None else seed
    ordering = scenario.make_policy(policy) if policy is None or isinstance(policy, str) else policy
    chain = Chain(
        seed=derive_seed(root, "chain"),
        # the deployer, the agents, and (last) any accounts of the study's own
        accounts=scenario.agent_count + 1 + study.extra_accounts,
        automine=True,
        policy=ordering,
        latency=make_latency(scenario, root),
        gas_limit=scenario.run.gas_limit,
        base_fee=scenario.run.base_fee,
        block_interval_ms=scenario.run.block_time_ms,
    )
    world = study.deploy(chain, scenario, root)
    chain.automine = False
    agents = _make_agents(scenario, study, chain, root)
    study.fund(world, {agent.address: dict(group.funding) for group, agent in agents})
    production = _make_production(scenario, chain, root, agents)
    _mine_pending(chain)
    # Positionally: chain, agents, blocks, root seed and the world every view is handed.
    sim = Simulation(
        chain, [agent for _, agent in agents], scenario.run.blocks, root, world, log, progress
    )
    sim.production = production
    return sim, world


def _make_production(
    scenario: Scenario, chain: Chain, root: int, agents: list[tuple[AgentGroup, Agent]]
) -> LoopProducer | None:
    """The ``[block_production]`` game, its builders funded (None without the table)."""
    if scenario.block_production is None:
        return None
    from agentbed.agents.blockprod.loop import LoopProducer

    producer = LoopProducer(
        chain,
        scenario.block_production,
        root,
        {agent.name: agent.address for _, agent in agents},
        {agent.name: group.name for group, agent in agents},
    )
    producer.setup()
    return producer


def _make_agents(
    scenario: Scenario, study: Study, chain: Chain, root: int
) -> list[tuple[AgentGroup, Agent]]:
    """Each agent with its group, on accounts 1.. in group order, with its own random stream."""
    agents: list[tuple[AgentGroup, Agent]] = []
    for group in scenario.agents:
        cls = study.strategies[group.kind]
        for name in group.agent_names():
            account = chain.accounts[1 + len(agents)]
            rng = random.Random(derive_seed(root, "agent", name))
            agent = cls(name, account, rng, group.schedule.make(), **dict(group.params))
            agents.append((group, agent))
    return agents


def _mine_pending(chain: Chain) -> None:
    """Mine what the funding left in the pool before the run, which would otherwise count it
    as the agents' gains (many agents' mints can exceed one block)."""
    for _ in range(_MAX_FUNDING_BLOCKS):
        if not len(chain.mempool):
            break
        chain.mine()
    if len(chain.mempool):
        raise RuntimeError(f"funding did not fit in {_MAX_FUNDING_BLOCKS} blocks")
