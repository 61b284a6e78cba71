"""The sim-economy world of a simulation: the ``SimEconomy`` contract, its parameters and reads.

``SimWorld.deploy`` puts ``contracts/SimEconomy.sol`` on a chain with the paper's Table 1
parameters (:class:`WorldParams`), the agents in the order the meter reports their inference,
the compute meter as operator and the core shares' holders. The world is the simulation's
``market``: it builds the agents' transaction intents, answers the one read they all need (the
ledger's :class:`Snapshot`, fetched once per head block however many agents ask) and follows
every turn from the contract's events (``on_block``) into :class:`TurnRecord` rows for the report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from agentbed.agents.agent import TxIntent

if TYPE_CHECKING:
    from agentbed.agents.agent import ChainReader
    from agentbed.chain.node import Chain
    from agentbed.chain.types import Block, Receipt

WEIGHT_UNIT: Final = 10_000
"""Lottery weights and rates are fixed point: 1.0 is 10,000 (basis points)."""
ACTIONS: Final = ("none", "mine", "job", "study", "stake", "unstake", "burn", "transfer")
"""``ISimEconomy.Action`` by ordinal."""
ACTION_GAS: Final = 200_000
CLOSE_GAS: Final = 3_000_000
GRANT_GAS: Final = 100_000


def _selector(signature: str) -> bytes:
    return function_signature_to_4byte_selector(signature)


_SNAPSHOT = _selector("snapshot()")
_CLOSE = _selector("closeTurn(uint256[],uint256[])")
_STAKE = _selector("stake(uint256)")
_BURN = _selector("burn(uint256)")
_TRANSFER = _selector("transfer(address,uint256,uint256)")
_PLAIN = {name: _selector(f"{name}()") for name in ("mine", "job", "study")}
_UNSTAKE = _selector("requestUnstake()")

_ACTED = keccak(text="Acted(address,uint256,uint8,uint256)")
_BILLED = keccak(text="Billed(address,uint256,uint256,uint256)")
_INTEREST = keccak(text="InterestCharged(address,uint256,uint256)")
_SEALED = keccak(text="BlockSealed(uint256,address,uint256,uint256)")
_SKIPPED = keccak(text="BlockSkipped(uint256,uint256)")
_DIVIDEND = keccak(text="DividendPaid(address,uint256,uint256)")
_CLOSED = keccak(text="TurnClosed(uint256,uint256)")


@dataclass(frozen=True, slots=True)
class WorldParams:
    """The world's parameters (the paper's Table 1 names; defaults are its values).

    Attributes:
        turns: Turns in the run.
        genesis_tokens: Tokens each agent starts with (its funding, minted as genesis).
        num_cores: Core shares, all held by ``core_holder``.
        core_holder: Who holds the core shares: ``"meter"`` (the compute provider; the fee
            pool leaves the agents' economy) or ``"agents"`` (one share per agent).
        commons_threshold: Inference units per agent per turn that are free.
        inference_rate: Tokens per billed unit above the threshold.
        thinking_discount: Multiplier of thinking-layer units (their billed count is floored).
        mine_weight: Lottery weight of a ``mine`` action.
        stake_weight_per_token: Lottery weight per staked token.
        burn_weight_per_token: Lottery weight per burned token once matured.
        burn_decay: Per-turn decay of a burn's weight.
        burn_maturity: Turns before a burn weighs.
        unstake_delay: Turns between an unstake request and the stake's release.
        interest_rate: Per-turn interest on a negative balance (rounded up to whole tokens).
        signing_bonus: Tokens minted to the winner of a sealed block.
        block_threshold: Total lottery weight a turn needs for a block.
        job_wage: Tokens a ``job`` turn pays (not in the paper: calibrated, docs/sim-economy.md).
        job_wage_spread: 0 for a fixed wage; else the wage is uniform on ``job_wage`` +- this,
            drawn per agent and turn from the lottery's seed.
    """

    turns: int = 60
    genesis_tokens: int = 1_000
    num_cores: int = 4
    core_holder: str = "meter"
    commons_threshold: int = 100
    inference_rate: int = 1
    thinking_discount: float = 0.1
    mine_weight: float = 10.0
    stake_weight_per_token: float = 0.01
    burn_weight_per_token: float = 0.05
    burn_decay: float = 0.02
    burn_maturity: int = 3
    unstake_delay: int = 5
    interest_rate: float = 0.01
    signing_bonus: int = 50
    block_threshold: float = 20.0
    job_wage: int = 75
    job_wage_spread: int = 0

    def contract_config(self, seed: int) -> tuple[Any, ...]:
        """The ``SimEconomy.Config`` tuple (fixed point), with the run's root ``seed``."""

        def fixed(value: float) -> int:
            return round(value * WEIGHT_UNIT)

        return (
            self.turns,
            self.commons_threshold,
            self.inference_rate,
            fixed(self.thinking_discount),
            fixed(self.mine_weight),
            fixed(self.stake_weight_per_token),
            fixed(self.burn_weight_per_token),
            fixed(self.burn_decay),
            self.burn_maturity,
            self.unstake_delay,
            fixed(self.interest_rate),
            self.signing_bonus,
            fixed(self.block_threshold),
            self.job_wage,
            self.job_wage_spread,
            (seed % 2**256).to_bytes(32, "big"),
        )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The ledger as of one head block: what the rule policy reads.

    Attributes:
        block: The head block it was read at.
        turn: The open turn (``turns + 1`` once the run is over).
        balances: Each agent's balance, in ``SimWorld.agents`` order (may be negative).
        staked: Each agent's stake (including stake whose unstake was requested).
        acted_turn: The last turn each agent acted in.
    """

    block: int
    turn: int
    balances: tuple[int, ...]
    staked: tuple[int, ...]
    acted_turn: tuple[int, ...]


@dataclass(slots=True)
class TurnRecord:
    """One closed turn as the contract's events told it."""

    turn: int
    block: int = 0
    fees: int = 0
    interest: int = 0
    dividends_to_agents: int = 0
    winner: str | None = None
    weight: int = 0
    actions: Counter[str] = field(default_factory=Counter)


@dataclass
class SimWorld:
    """The deployed ``SimEconomy`` and what the simulation has seen of it (module docstring)."""

    chain: Chain
    address: str
    params: WorldParams
    agents: tuple[str, ...]
    meter: str
    turns: list[TurnRecord] = field(default_factory=list)
    _open: TurnRecord = field(default_factory=lambda: TurnRecord(turn=1))
    _snapshot: Snapshot | None = None

    @classmethod
    def deploy(
        cls,
        chain: Chain,
        params: WorldParams,
        agents: Sequence[str],
        meter: str,
        seed: int,
        *,
        sender: Any = None,
    ) -> SimWorld:
        """Deploy the contract (automine on) for ``agents`` with ``meter`` as operator."""
        if params.core_holder == "agents":
            holders, shares = list(agents), [1] * len(agents)
        else:
            holders, shares = [meter], [params.num_cores]
        contract = chain.deploy(
            "SimEconomy",
            params.contract_config(seed),
            list(agents),
            meter,
            holders,
            shares,
            sender=sender,
        )
        return cls(chain, str(contract.address), params, tuple(agents), meter)

    def index_of(self, address: str) -> int:
        """An agent's position in the ledger (its ``agent_idx`` in the paper's rules)."""
        return self.agents.index(address)

    # -- intents ----------------------------------------------------------------------------

    def action(self, name: str, *args: Any) -> TxIntent:
        """The intent of one turn's action: ``mine``, ``job``, ``study``, ``unstake``,
        ``stake(amount)``, ``burn(amount)`` or ``transfer(to, amount, fee)``."""
        if name in _PLAIN:
            data = _PLAIN[name]
        elif name == "unstake":
            data = _UNSTAKE
        elif name == "stake":
            data = _STAKE + encode(["uint256"], list(args))
        elif name == "burn":
            data = _BURN + encode(["uint256"], list(args))
        elif name == "transfer":
            data = _TRANSFER + encode(["address", "uint256", "uint256"], list(args))
        else:
            raise ValueError(f"unknown sim-economy action {name!r}")
        return TxIntent(to=self.address, data=data, gas=ACTION_GAS, label=name)

    def close_turn(self, thinking: Sequence[int], output: Sequence[int]) -> TxIntent:
        """The meter's intent closing the open turn with each agent's metered units."""
        data = _CLOSE + encode(["uint256[]", "uint256[]"], [list(thinking), list(output)])
        return TxIntent(to=self.address, data=data, gas=CLOSE_GAS, label="close")

    # -- reads ------------------------------------------------------------------------------

    def snapshot(self, reader: ChainReader) -> Snapshot:
        """The ledger at ``reader``'s head (one ``eth_call`` per head block, shared)."""
        head = reader.head.number
        if self._snapshot is None or self._snapshot.block != head:
            raw = reader.call(self.address, _SNAPSHOT)
            turn, balances, staked, acted = decode(
                ["uint256", "int256[]", "uint256[]", "uint256[]"], raw
            )
            self._snapshot = Snapshot(head, turn, tuple(balances), tuple(staked), tuple(acted))
        return self._snapshot

    # -- following the run ------------------------------------------------------------------

    def on_block(self, block: Block, receipts: Sequence[Receipt]) -> None:
        """Fold the contract's events of ``block`` into the per-turn records."""
        agents = set(self.agents)
        for receipt in receipts:
            for log in receipt.logs:
                if to_checksum_address(log.address) != self.address or not log.topics:
                    continue
                self._fold(log.topics, log.data, agents, block.number)

    def _fold(self, topics: Sequence[bytes], data: bytes, agents: set[str], block: int) -> None:
        record = self._open
        topic = topics[0]
        if topic == _ACTED:
            (action, _amount) = decode(["uint8", "uint256"], data)
            record.actions[ACTIONS[action]] += 1
        elif topic == _BILLED:
            record.fees += decode(["uint256", "uint256"], data)[1]
        elif topic == _INTEREST:
            record.interest += decode(["uint256"], data)[0]
        elif topic == _DIVIDEND:
            holder = to_checksum_address(topics[1][-20:])
            if holder in agents:
                record.dividends_to_agents += decode(["uint256"], data)[0]
        elif topic == _SEALED:
            record.winner = to_checksum_address(topics[2][-20:])
            record.weight = decode(["uint256", "uint256"], data)[0]
        elif topic == _SKIPPED:
            record.weight = decode(["uint256"], data)[0]
        elif topic == _CLOSED:
            record.block = block
            self.turns.append(record)
            self._open = TurnRecord(turn=record.turn + 1)
