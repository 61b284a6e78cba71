"""The discrete-event simulation loop: agents wake, decide, and the chain applies.

Events are kept in one heap ordered by simulated time. Agents wake on their own schedules, when
a public transaction has propagated to them (``Agent.wants_pending``) and after each block
(``Agent.wants_blocks``); blocks are built every block interval by the chain's builder under the
chain's ordering policy. Every source of randomness derives from the one root seed, so the
same seed and inputs give the same blocks, receipts and event log.
"""

from __future__ import annotations

import heapq
import random
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from agentbed.agents.agent import Action, Agent, AgentView, BundleIntent, TxIntent, derive_seed
from agentbed.agents.eventlog import EventLog
from agentbed.chain.errors import BundleRejected, TxRejected

if TYPE_CHECKING:
    from agentbed.agents.blockprod.loop import LoopProducer
    from agentbed.agents.study import World
    from agentbed.chain.node import Chain
    from agentbed.chain.types import Block, Receipt

# Same-millisecond order: agents act before the block at that instant is built, so a tx sent
# at the block's time can still make it in (if the builder's latency allows).
_WAKE, _BLOCK = 0, 1
_MAX_SETUP_BLOCKS = 100
"""Most blocks the set-up may take (it stops early once the pool is empty)."""


@dataclass(frozen=True, slots=True)
class SentTx:
    """Ground truth about one transaction an agent sent.

    Attributes:
        hash: Transaction hash.
        agent: Name of the sending agent.
        label: The agent's own label ("trade", "front", "back", ...).
        meta: The agent's ground-truth details (e.g. the victim of a front-run).
        submitted_ms: Simulated submission time.
        bundle: Id of the private bundle carrying it, or None for a public tx.
    """

    hash: bytes
    agent: str
    label: str
    meta: dict[str, Any]
    submitted_ms: int
    bundle: bytes | None = None


@dataclass(frozen=True, slots=True)
class BlockMetrics:
    """Per-block figures collected as the simulation runs."""

    number: int
    timestamp_ms: int
    base_fee: int
    gas_used: int
    gas_limit: int
    txs: int
    reverted: int
    priority_fees: int
    burned: int
    coinbase_transfers: int
    pending_after: int
    mean_wait_ms: float

    @property
    def fullness(self) -> float:
        """Gas used over the gas limit."""
        return self.gas_used / self.gas_limit


@dataclass
class Simulation:
    """Runs agents against a chain for a number of blocks.

    Args:
        chain: A chain with automine off; its policy, latency and block interval are the
            scenario's.
        agents: The agents; names must be unique.
        blocks: How many blocks to build after the set-up block.
        seed: Root seed; the schedules' random streams derive from it.
        market: The study's world (``agentbed.agents.study.World``: a market, an economy),
            handed to every agent's view and set-up as ``market``; its ``on_block(block,
            receipts)`` is called after each block, set-up blocks included. None runs the
            agents against the bare chain.
        log: Where to append the JSONL event log (flushed every block), or None.
        progress: Stream for a progress bar (e.g. ``sys.stderr``), or None for quiet.
        production: Who produces the blocks (a scenario's ``[block_production]`` game), or None
            for the chain's single passive builder (``Chain.mine``).
    """

    chain: Chain
    agents: Sequence[Agent]
    blocks: int
    seed: int = 0
    market: World | None = None
    log: EventLog | None = None
    progress: IO[str] | None = None
    production: LoopProducer | None = None
    sent: dict[bytes, SentTx] = field(default_factory=dict, init=False)
    metrics: list[BlockMetrics] = field(default_factory=list, init=False)
    steps: int = field(default=0, init=False)
    _heap: list[tuple[int, int, int, Callable[[int], None]]] = field(
        default_factory=list, init=False
    )
    _seq: int = field(default=0, init=False)
    _seen_block: dict[str, int] = field(default_factory=dict, init=False)
    _schedule_rngs: dict[str, random.Random] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        if self.chain.automine:
            raise ValueError(
                "the simulation builds blocks itself: create the chain with automine=False"
            )
        if self.blocks < 0:
            raise ValueError(f"blocks must be >= 0, got {self.blocks}")
        names = [a.name for a in self.agents]
        if len(set(names)) != len(names):
            raise ValueError(
                f"agent names must be unique: {sorted(n for n in names if names.count(n) > 1)}"
            )
        self._by_address = {a.address: a for a in self.agents}
        self._watchers = [a for a in self.agents if a.wants_pending]
        self._block_watchers = [a for a in self.agents if a.wants_blocks]
        if self.log is not None:
            self.chain.add_reorg_listener(self.log.reorg)

    # -- running --------------------------------------------------------------------------

    def run(self) -> list[BlockMetrics]:
        """Set up, then run until ``blocks`` blocks are built; return the per-block metrics.

        If the run is interrupted (an exception, Ctrl-C), the event log keeps everything up to
        the last completed block and ends with an ``interrupted`` record saying where.
        """
        try:
            target = self._start()
            while self.chain.block_number < target:
                time_ms, _, _, handler = heapq.heappop(self._heap)
                handler(time_ms)
        except BaseException as err:
            if self.log is not None:
                self.log.interrupted(self.chain.block_number, f"{type(err).__name__}: {err}")
            raise
        finally:
            if self.progress is not None:
                self.progress.write("\n")
        return self.metrics

    def _start(self) -> int:
        """Set up, schedule every agent's first wake and the first block; return the block
        number the run ends at. A loop that steps the events itself (the learning
        environment's) starts with this too."""
        self._setup()
        now = self.chain.clock.now_ms
        for agent in self.agents:
            self._seen_block[agent.name] = self.chain.block_number
            rng = random.Random(derive_seed(self.seed, "schedule", agent.name))
            self._schedule_rngs[agent.name] = rng
            nxt = agent.schedule.first_wake(now, rng)
            if nxt is not None:
                self._push(nxt, _WAKE, self._waker(agent, "schedule"))
        self._push(self._next_block_ms(), _BLOCK, self._build_block)
        return self.chain.block_number + self.blocks

    def _setup(self) -> None:
        """Send every agent's set-up actions and mine them (not measured).

        As many blocks as the set-up needs: many agents' approvals can exceed one block's gas
        limit, and what spilled over would otherwise be mined, and counted, in the run.
        """
        now = self.chain.clock.now_ms
        directory = {agent.name: agent.address for agent in self.agents}
        for agent in self.agents:
            agent.meet(directory)
        for agent in self.agents:
            self._apply(agent, agent.setup(self.market), now)
        for _ in range(_MAX_SETUP_BLOCKS):
            (block,) = self.chain.mine()
            # Set-up may move pools (a liquidity provider's deposit): the market must see it.
            self._market_on_block(block, self.chain.receipts(block.number))
            if not len(self.chain.mempool) or not block.tx_hashes:
                break
        if self.log is not None:
            self.log.flush()

    def _market_on_block(self, block: Block, receipts: Sequence[Receipt]) -> None:
        if self.market is not None:
            self.market.on_block(block, receipts)

    def _push(self, time_ms: int, order: int, handler: Callable[[int], None]) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (time_ms, order, self._seq, handler))

    def _next_block_ms(self) -> int:
        return self.chain.head.timestamp_ms + self.chain.clock.block_interval_ms

    # -- agents ---------------------------------------------------------------------------

    def _waker(
        self, agent: Agent, reason: str, trigger: bytes | None = None
    ) -> Callable[[int], None]:
        def wake(now: int) -> None:
            self._wake(agent, reason, now, trigger)

        return wake

    def _wake(self, agent: Agent, reason: str, now: int, trigger: bytes | None) -> None:
        if reason == "schedule":
            nxt = agent.schedule.next_wake(now, self._schedule_rngs[agent.name])
            if nxt is not None:
                self._push(nxt, _WAKE, self._waker(agent, "schedule"))
        trigger_tx = None
        if trigger is not None:
            trigger_tx = self.chain.mempool.get(trigger)
            if trigger_tx is None:
                return  # already mined or dropped before it reached the agent
        view = self._view(agent, reason, now, trigger_tx)
        self.steps += 1
        self._apply(agent, agent.observe(view), now)

    def _view(self, agent: Agent, reason: str, now: int, trigger: Any) -> AgentView:
        chain = self.chain
        head = chain.head
        seen = self._seen_block[agent.name]
        new_blocks = tuple(chain.block(n) for n in range(seen + 1, head.number + 1))
        self._seen_block[agent.name] = head.number
        confirmed = chain.nonce(agent.address)
        return AgentView(
            now_ms=now,
            reason=reason,  # type: ignore[arg-type]  # one of WakeReason by construction
            head=head,
            base_fee=chain.base_fee,
            nonce=chain.mempool.pending_nonce(agent.address, confirmed),
            confirmed_nonce=confirmed,
            pending=chain.mempool_view(agent.name, now) if agent.wants_pending else (),
            trigger=trigger,
            new_blocks=new_blocks,
            reader=chain,
            market=self.market,
        )

    def _apply(self, agent: Agent, actions: Iterable[Action], now: int) -> None:
        nonce: int | None = None
        for action in actions:
            if nonce is None:
                nonce = self.chain.pending_nonce(agent.address)
            if isinstance(action, TxIntent):
                nonce = self._send(agent, action, nonce, now)
            elif isinstance(action, BundleIntent):
                nonce = self._send_bundle(agent, action, nonce, now)
            else:
                raise TypeError(
                    f"{agent!r} returned {type(action).__name__}, not a TxIntent or BundleIntent"
                )

    def _sign(self, agent: Agent, intent: TxIntent, nonce: int) -> bytes:
        fields: dict[str, Any] = {
            "data": intent.data,
            "value": intent.value,
            "gas": intent.gas,
            "nonce": nonce,
            "maxPriorityFeePerGas": intent.tip,
            "maxFeePerGas": intent.max_fee
            if intent.max_fee is not None
            else 2 * self.chain.base_fee + intent.tip,
            "type": 2,
        }
        if intent.to is not None:
            fields["to"] = intent.to
        return self.chain.sign(agent.account, fields)

    def _send(self, agent: Agent, intent: TxIntent, nonce: int, now: int) -> int:
        use = intent.nonce if intent.nonce is not None else nonce
        raw = self._sign(agent, intent, use)
        try:
            tx_hash = self.chain.submit(raw, origin=agent.name, at_ms=now)
        except TxRejected as err:
            agent.rejected += 1
            if self.log is not None:
                self.log.rejected(now, agent.name, intent.label, str(err))
            return nonce
        agent.sent += 1
        self.sent[tx_hash] = SentTx(tx_hash, agent.name, intent.label, dict(intent.meta), now)
        if self.log is not None:
            self.log.submitted(now, agent.name, tx_hash, intent.label, None)
        ptx = self.chain.mempool.get(tx_hash)
        if ptx is not None:
            for watcher in self._watchers:
                if watcher is not agent:
                    seen_at = (
                        now + self.chain.latency.delay_ms(ptx, watcher.name) + watcher.reaction_ms
                    )
                    self._push(seen_at, _WAKE, self._waker(watcher, "pending", tx_hash))
        return nonce + 1 if intent.nonce is None else nonce

    def _send_bundle(self, agent: Agent, bundle: BundleIntent, nonce: int, now: int) -> int:
        raws: list[bytes] = []
        own: list[tuple[bytes, TxIntent]] = []
        next_nonce = nonce
        for item in bundle.items:
            if isinstance(item, bytes):
                raws.append(item)
                continue
            raw = self._sign(agent, item, next_nonce)
            next_nonce += 1
            raws.append(raw)
            own.append((raw, item))
        try:
            if self.production is None:
                bundle_id = self.chain.submit_bundle(
                    raws, bundle.target_block, origin=agent.name, at_ms=now
                )
            else:  # to the builders the searcher chooses
                bundle_id = self.production.send_bundle(raws, agent.name, bundle.target_block, now)
        except (BundleRejected, TxRejected) as err:
            agent.rejected += 1
            if self.log is not None:
                self.log.rejected(now, agent.name, bundle.label, str(err))
            return nonce
        for raw, item in own:
            tx_hash = self.chain.decode(raw).hash
            agent.sent += 1
            self.sent[tx_hash] = SentTx(
                tx_hash, agent.name, item.label, dict(item.meta), now, bundle_id
            )
            if self.log is not None:
                self.log.submitted(now, agent.name, tx_hash, item.label, bundle_id)
        # The bundle's nonces are only used if it lands; the next wake re-reads the chain.
        return nonce

    # -- blocks ---------------------------------------------------------------------------

    def _build_block(self, now: int) -> None:
        # The game may seal more than one block: a time-bandit's re-mined branch and its own.
        production = self.production
        blocks = list(self.chain.mine()) if production is None else production.produce()
        recorded = self.metrics[-1].number if self.metrics else -1
        for block in blocks:
            receipts = self.chain.receipts(block.number)
            if block.number <= recorded:
                # A reorg re-sealed it: the row follows the canonical block. Its txs are the
                # orphaned block's (a time-bandit re-mines them in order), so the agents' counts
                # and the world's reserves stand.
                index = len(self.metrics) - 1 - (recorded - block.number)
                self.metrics[index] = self._block_metrics(block, receipts)
            else:
                self._record(block, receipts)
                self._market_on_block(block, receipts)
            if self.log is not None:
                self.log.block(block, receipts, self.sent)
        head = blocks[-1]
        for agent in self._block_watchers:
            self._push(head.timestamp_ms + agent.reaction_ms, _WAKE, self._waker(agent, "block"))
        self._push(self._next_block_ms(), _BLOCK, self._build_block)
        if self.log is not None:
            self.log.flush()
        if self.progress is not None:
            self._draw_progress(head.number)

    def _record(self, block: Block, receipts: Sequence[Receipt]) -> None:
        for receipt in receipts:
            sent = self.sent.get(receipt.tx_hash)
            agent = self._by_address.get(receipt.sender)
            if sent is None or agent is None:
                continue
            agent.included += 1
            agent.failed += receipt.status == 0
            agent.gas_spent += receipt.gas_used * receipt.effective_gas_price
            agent.on_receipt(receipt, sent.label)
        self.metrics.append(self._block_metrics(block, receipts))

    def _block_metrics(self, block: Block, receipts: Sequence[Receipt]) -> BlockMetrics:
        waits = [r.waited_ms for r in receipts if r.waited_ms is not None]
        return BlockMetrics(
            number=block.number,
            timestamp_ms=block.timestamp_ms,
            base_fee=block.base_fee,
            gas_used=block.gas_used,
            gas_limit=block.gas_limit,
            txs=len(receipts),
            reverted=sum(1 for r in receipts if r.status == 0),
            priority_fees=block.priority_fees,
            burned=block.burned,
            coinbase_transfers=block.coinbase_transfers,
            pending_after=len(self.chain.mempool),
            mean_wait_ms=sum(waits) / len(waits) if waits else 0.0,
        )

    def _draw_progress(self, number: int) -> None:
        assert self.progress is not None
        done = len(self.metrics)
        width = 30
        filled = width * done // max(1, self.blocks)
        bar = "#" * filled + "-" * (width - filled)
        self.progress.write(f"\r[{bar}] block {done}/{self.blocks} (#{number})")
        self.progress.flush()


def default_progress() -> IO[str] | None:
    """stderr when it is a terminal, else None (no bar in logs and CI output)."""
    return sys.stderr if sys.stderr.isatty() else None
