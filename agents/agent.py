"""The agent side of a simulation: what an agent sees, what it may ask for, and when it wakes.

An agent **decides**; the simulation **applies**. ``Agent.observe`` receives a read-only
``AgentView`` (chain reads, the agent's latency-limited mempool view, the time, new blocks) and
returns intended actions: ``TxIntent`` for a public transaction, ``BundleIntent`` for a private
bundle. The simulation signs them with the agent's key, fills in nonces and fees, and submits
them at the agent's arrival time. Agents never touch the backend or the clock.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from agentbed.chain.types import Block, Log, PoolTx, Receipt

GWEI = 10**9

WakeReason = Literal["start", "schedule", "pending", "block"]


def derive_seed(root: int, *labels: object) -> int:
    """A 64-bit seed for one component, derived from the root seed and its labels.

    SHA-256 of the labels' reprs, so it is stable across processes and Python versions (unlike
    ``hash``), and distinct labels give independent streams.
    """
    text = "\x1f".join([repr(root), *(repr(label) for label in labels)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


@dataclass(frozen=True, slots=True)
class TxIntent:
    """A transaction an agent wants sent.

    Attributes:
        to: Target address (None deploys ``data`` as initcode).
        data: Calldata.
        value: Wei sent along.
        gas: Gas limit (strategies know their calls; estimation would cost an EVM run).
        tip: ``maxPriorityFeePerGas`` in wei.
        max_fee: ``maxFeePerGas``; None means twice the next base fee plus the tip.
        nonce: Explicit nonce (to replace a pending tx); None takes the next free one.
        label: What the agent means by it (ground truth for MEV accounting): "trade",
            "front", "back", "arb", "spam", ...
        meta: Free-form ground-truth details, e.g. ``{"victim": tx_hash}``.
    """

    to: str | None
    data: bytes = b""
    value: int = 0
    gas: int = 200_000
    tip: int = GWEI
    max_fee: int | None = None
    nonce: int | None = None
    label: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BundleIntent:
    """A private, atomic bundle: the agent's own txs and, optionally, others' raw pending txs.

    Attributes:
        items: In block order: ``TxIntent`` (signed by the agent, consecutive nonces) or ``bytes``
            (another sender's signed tx taken from the mempool, e.g. a sandwich victim).
        target_block: Block number the bundle is for; None means the next block.
        label: Ground-truth label of the bundle as a whole.
    """

    items: tuple[TxIntent | bytes, ...]
    target_block: int | None = None
    label: str = ""


Action = TxIntent | BundleIntent


class ChainReader(Protocol):
    """The read-only chain access a view hands to agents."""

    def call(
        self,
        to: str | None,
        data: bytes = b"",
        *,
        sender: str | None = None,
        value: int = 0,
        gas: int = 0,
        block_number: int | None = None,
    ) -> bytes: ...

    def balance(self, address: str) -> int: ...

    # What an off-chain verifier also needs
    # (``agentbed.agents.economy.reputation.verify_attestation``): the
    # EIP-712 domain's chain id, the head's time for expiry, and logs for recorded claims.
    @property
    def chain_id(self) -> int: ...

    @property
    def head(self) -> Block: ...

    def logs(
        self, *, address: str | None = None, topics: Sequence[bytes | None] | None = None
    ) -> tuple[Log, ...]: ...


@dataclass(frozen=True, slots=True)
class AgentView:
    """What one agent sees when it wakes.

    Attributes:
        now_ms: Simulated time.
        reason: Why the agent woke: "start", "schedule", "pending" (a tx reached it) or "block".
        head: The latest sealed block.
        base_fee: Base fee of the next block.
        nonce: The agent's next free nonce, counting its own pending txs.
        confirmed_nonce: The agent's nonce in the head state.
        pending: The mempool as it has reached this agent (pending and queued txs).
        trigger: The pending tx that woke the agent (reason "pending"), else None.
        new_blocks: Blocks sealed since the agent last woke.
        reader: Read-only chain access against the head state (``call``, ``balance``,
            ``logs``, ``chain_id``, ``head``).
        market: The study's world (``agentbed.agents.study.World``), read-only: e.g. a
            market's pools, reserves per block and reference prices. Typed loosely so that
            each strategy can read it as its own study's world.
    """

    now_ms: int
    reason: WakeReason
    head: Block
    base_fee: int
    nonce: int
    confirmed_nonce: int
    pending: tuple[PoolTx, ...]
    trigger: PoolTx | None
    new_blocks: tuple[Block, ...]
    reader: ChainReader
    market: Any


class Schedule(Protocol):
    """When an agent wakes on its own, independently of events."""

    def first_wake(self, start_ms: int, rng: random.Random) -> int | None:
        """The first wake time at or after the run's start, or None for never."""
        ...

    def next_wake(self, now_ms: int, rng: random.Random) -> int | None:
        """The next wake time after ``now_ms``, or None for never."""
        ...


@dataclass(frozen=True, slots=True)
class PoissonSchedule:
    """Wakes as a Poisson process with ``rate_per_s`` wakes per simulated second."""

    rate_per_s: float

    def __post_init__(self) -> None:
        if not self.rate_per_s > 0:
            raise ValueError(f"rate_per_s must be > 0, got {self.rate_per_s}")

    def first_wake(self, start_ms: int, rng: random.Random) -> int | None:
        return self.next_wake(start_ms, rng)

    def next_wake(self, now_ms: int, rng: random.Random) -> int | None:
        # At least 1 ms later, so a schedule can never stall the clock.
        return now_ms + max(1, round(rng.expovariate(self.rate_per_s) * 1000))


@dataclass(frozen=True, slots=True)
class PeriodicSchedule:
    """Wakes every ``period_ms``, first at ``offset_ms`` after the start (0: at the start)."""

    period_ms: int
    offset_ms: int = 0

    def __post_init__(self) -> None:
        if self.period_ms <= 0:
            raise ValueError(f"period_ms must be > 0, got {self.period_ms}")
        if self.offset_ms < 0:
            raise ValueError(f"offset_ms must be >= 0, got {self.offset_ms}")

    def first_wake(self, start_ms: int, rng: random.Random) -> int | None:
        return start_ms + self.offset_ms

    def next_wake(self, now_ms: int, rng: random.Random) -> int | None:
        return now_ms + self.period_ms


@dataclass(frozen=True, slots=True)
class NoSchedule:
    """Never wakes on its own; only events wake the agent."""

    def first_wake(self, start_ms: int, rng: random.Random) -> int | None:
        return None

    def next_wake(self, now_ms: int, rng: random.Random) -> int | None:
        return None


class Agent:
    """Base class of every simulated agent.

    Subclasses override ``observe`` (and optionally ``on_receipt``). Class-level switches say
    which events wake the agent: ``wants_pending`` (every public tx once it has propagated to
    the agent) and ``wants_blocks`` (every sealed block, ``reaction_ms`` later).

    Args:
        name: Unique id; also the agent's observer id in the latency model.
        account: The agent's key.
        rng: The agent's own random stream (derive it from the simulation's root seed).
        schedule: When the agent wakes on its own.
        gas_budget: Most wei the agent may spend on gas over the run; None for no limit.
        reaction_ms: Delay between an event and the agent acting on it.
    """

    wants_pending: bool = False
    wants_blocks: bool = False

    def __init__(
        self,
        name: str,
        account: LocalAccount,
        rng: random.Random,
        schedule: Schedule | None = None,
        *,
        gas_budget: int | None = None,
        reaction_ms: int = 1,
    ) -> None:
        if reaction_ms < 0:
            raise ValueError(f"reaction_ms must be >= 0, got {reaction_ms}")
        self.name = name
        self.account = account
        self.rng = rng
        self.schedule: Schedule = schedule or NoSchedule()
        self.gas_budget = gas_budget
        self.reaction_ms = reaction_ms
        self.gas_spent = 0
        self.sent = 0
        self.included = 0
        self.failed = 0
        self.rejected = 0

    @property
    def address(self) -> str:
        """The agent's checksummed address."""
        return str(self.account.address)

    @property
    def kind(self) -> str:
        """The strategy's name for reports (the class name)."""
        return type(self).__name__

    def budget_left(self) -> int | None:
        """Wei of gas budget left, or None when unlimited."""
        return None if self.gas_budget is None else max(0, self.gas_budget - self.gas_spent)

    def can_afford(self, gas: int, fee_per_gas: int) -> bool:
        """Whether ``gas`` at ``fee_per_gas`` stays within the gas budget."""
        left = self.budget_left()
        return left is None or gas * fee_per_gas <= left

    def meet(self, directory: Mapping[str, str]) -> None:
        """Learn every agent's address by name, once, before set-up (so a scenario can name
        another agent, e.g. an attacker's own second account, by its agent name). Default:
        nothing."""

    def setup(self, market: Any) -> Sequence[Action]:
        """Actions to send once at the start (approvals, deposits), given the study's world
        (``AgentView.market``). Default: none."""
        return ()

    def observe(self, view: AgentView) -> Sequence[Action]:
        """Decide what to send now. Default: nothing."""
        return ()

    def on_receipt(self, receipt: Receipt, label: str) -> None:
        """Called once for each of the agent's own txs when it is mined."""

    def __repr__(self) -> str:
        return f"{self.kind}({self.name!r})"


AgentFactory = Callable[..., Agent]


# Checks of strategy parameters that any study's agents use: a bad value in a scenario file
# is reported when the file is read, with the parameter's name.


def check_fraction(name: str, value: float, *, allow_zero: bool = False) -> None:
    """Raise ValueError unless ``value`` is in (0, 1] (or [0, 1] with ``allow_zero``)."""
    low_ok = value >= 0 if allow_zero else value > 0
    if not (low_ok and value <= 1):
        interval = "[0, 1]" if allow_zero else "(0, 1]"
        raise ValueError(f"{name} must be in {interval}, got {value}")


def check_positive(name: str, value: float) -> None:
    """Raise ValueError unless ``value`` is > 0."""
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")


def check_non_negative(name: str, value: int) -> None:
    """Raise ValueError when ``value`` is negative."""
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
