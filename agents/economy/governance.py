"""Governance levers of the escrow economy: a transaction tax, a circuit breaker, collusion
detection, and reputation decay.

The levers of the distributional-safety sandbox (Savitt 2026, whitepaper v0.1.0, section 8),
each off by default and switched on from a scenario (``[economy]`` keys, or a buyer parameter
for decay). All three read only what is public on chain: the escrow's events, as the
``Economy`` keeps them in ``deals``.

* **Transaction tax** (``tax_bps`` > 0): the escrow sends ``floor(amount * tax_bps / 10_000)``
  of every payout (releases, refunds, rulings, arbitrator fees; not slashed bonds) to its
  treasury, an ``ArbitrationFund`` at its own address, which pays each ruled agreement's
  proposer its arbitrator fee back, as far as its balance goes: the tax funds dispute
  resolution (``GovernedEscrow``).
* **Circuit breaker** (``freeze_defaults`` > 0): an account with ``freeze_defaults`` or more
  bad outcomes as seller (a delivery timeout it had not confirmed, or a ruling giving the buyer
  more than half the pot: the ``escrow.defaulted`` and ``escrow.dispute-lost`` attestations)
  among agreements closed at most ``freeze_window_s`` seconds before the block a proposal
  lands in is frozen: no new escrow names it, as proposer or counterparty.
* **Collusion detection** (``collusion_z`` > 0): over the proposer x counterparty table of all
  proposals so far (``N`` in all, row totals ``r_i``, column totals ``c_j``), a pair trading
  ``n_ij`` times is flagged when ``n_ij >= collusion_min_deals`` and its adjusted residual
  ``(n_ij - E_ij) / sqrt(E_ij (1 - r_i / N) (1 - c_j / N))``, ``E_ij = r_i c_j / N``, is at
  least ``collusion_z``: under independence of who trades with whom it is approximately
  standard normal (Haberman 1973, "The analysis of residuals in cross-classified tables",
  Biometrics 29(1); Agresti 2013, Categorical Data Analysis, 3rd ed., section 2.4.5). Both
  accounts of a flagged pair are frozen for the rest of the run: detection is this off-chain
  analysis of the escrow's events, the freeze goes on chain through the escrow's freeze list
  (the ``auditor`` agent holds the governor role and sends ``setFrozen``).
* **Reputation decay** (buyer ``half_life_s`` > 0): the buyer's weighted record counts, per
  outcome, each distinct counterparty with weight ``2^(-age / half_life)``, the age being that
  of their latest such dealing with at least the buyer's price at stake; without decay the
  same counts are ``Reputation.weightedScore``'s counterparties.

Sellers with a ``min_margin`` respond to the tax (``seller_margin``): a tax on trade drives out
first the sellers with thin margins, the honest ones that pay to deliver, leaving the market to
those that do not (Akerlof 1970, "The market for 'lemons'", QJE 84(3)): the welfare cost the
whitepaper weighs against the harm a lever removes.

With the tax, the breaker or collusion detection on, the economy deploys ``GovernedEscrow``
(``contracts/GovernedEscrow.sol``) instead of ``ConsentEscrow``: the contract keeps the tax,
records every bad outcome and reverts a proposal naming a tripped or frozen account. The
``Governor`` here mirrors the contract's rule for the block a proposal will land in, so that
agents do not send proposals the escrow would revert (``Economy.propose`` builds none naming a
frozen account, buyers skip frozen sellers); the contract is what enforces it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from agentbed.agents.economy.world import Deal

GOVERNANCE_KEYS: Final = (
    "tax_bps",
    "freeze_defaults",
    "freeze_window_s",
    "collusion_z",
    "collusion_min_deals",
)
"""The ``[economy]`` keys of the levers (``Governance``'s fields)."""


@dataclass(frozen=True, slots=True)
class Governance:
    """The on-economy levers' settings (see the module); the defaults switch them off.

    Attributes:
        tax_bps: Share of each escrow payout kept for the treasury, in basis points (0: none).
        freeze_defaults: Bad outcomes in the window that freeze an account (0: no breaker).
        freeze_window_s: Seconds a bad outcome counts, up to the block a proposal lands in.
        collusion_z: Adjusted residual at which a pair is flagged (0: no detection).
        collusion_min_deals: Fewest proposals between a pair before it can be flagged.
    """

    tax_bps: int = 0
    freeze_defaults: int = 0
    freeze_window_s: int = 240
    collusion_z: float = 0.0
    collusion_min_deals: int = 5

    def __post_init__(self) -> None:
        if not 0 <= self.tax_bps < 10_000:
            raise ValueError(f"tax_bps must be >= 0 and < 10000, got {self.tax_bps}")
        if self.freeze_defaults < 0 or self.freeze_window_s < 1:
            raise ValueError("freeze_defaults must be >= 0 and freeze_window_s >= 1")
        if self.collusion_z < 0 or self.collusion_min_deals < 1:
            raise ValueError("collusion_z must be >= 0 and collusion_min_deals >= 1")

    @property
    def active(self) -> bool:
        """Whether any lever is on."""
        return self.freeze_defaults > 0 or self.collusion_z > 0

    @property
    def on_chain(self) -> bool:
        """Whether the economy needs ``GovernedEscrow`` (any lever, the tax included, is on)."""
        return self.active or self.tax_bps > 0

    def levers(
        self, governor: str, treasury: str = "0x" + "00" * 20
    ) -> tuple[str, str, int, int, int]:
        """``GovernedEscrow``'s constructor ``Levers``: ``governor`` keeps the freeze list, the
        tax goes to ``treasury`` (an ``ArbitrationFund``; zero without a tax)."""
        return (governor, treasury, self.tax_bps, self.freeze_defaults, self.freeze_window_s)


def seller_lost(deal: Deal) -> bool:
    """Whether a closed ``deal`` attested a bad outcome about its seller (defaulted or
    dispute-lost)."""
    if deal.state == "TimedOut":
        return not deal.counterparty_confirmed
    return deal.state == "Ruled" and 2 * deal.to_proposer > deal.pot


def breaker_frozen(
    deals: Iterable[Deal], head: int, window_blocks: int, threshold: int
) -> frozenset[str]:
    """Sellers with at least ``threshold`` bad outcomes in agreements closed in the
    ``window_blocks`` blocks up to ``head`` (``GovernedEscrow``'s rule for block ``head + 1``
    when ``window_blocks`` is the window's length in whole blocks)."""
    bad: Counter[str] = Counter()
    for deal in deals:
        closed = deal.closed_block
        if closed is not None and head - closed < window_blocks and seller_lost(deal):
            bad[deal.counterparty] += 1
    return frozenset(s for s, n in bad.items() if n >= threshold)


def adjusted_residuals(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], float]:
    """Each observed (row, column) pair's adjusted residual in the table of ``pairs`` counts
    (0.0 where it is undefined: a row or column holding every count)."""
    counts = Counter(pairs)
    total = sum(counts.values())
    rows: Counter[str] = Counter()
    cols: Counter[str] = Counter()
    for (row, col), n in counts.items():
        rows[row] += n
        cols[col] += n
    out: dict[tuple[str, str], float] = {}
    for (row, col), n in counts.items():
        expected = rows[row] * cols[col] / total
        variance = expected * (1 - rows[row] / total) * (1 - cols[col] / total)
        out[(row, col)] = (n - expected) / math.sqrt(variance) if variance > 0 else 0.0
    return out


def collusive_pairs(deals: Iterable[Deal], z: float, min_deals: int) -> list[tuple[str, str]]:
    """The (proposer, counterparty) pairs of ``deals`` flagged as trading far above chance."""
    items = [(d.proposer, d.counterparty) for d in deals]
    counts = Counter(items)
    return sorted(
        pair
        for pair, residual in adjusted_residuals(items).items()
        if residual >= z and counts[pair] >= min_deals
    )


class Governor:
    """The levers' live state in one economy: which accounts are frozen, updated per block.

    Args:
        rules: The settings.
        block_interval_s: Seconds per block (the breaker's window in blocks).
    """

    def __init__(self, rules: Governance | None = None, block_interval_s: int = 12) -> None:
        self.rules = rules or Governance()
        # The escrow blocks while a bad outcome is at most W s old at the proposal's block:
        # closed at block c, proposed at head h, it lands at h + 1, (h + 1 - c) * dt <= W.
        self.window_blocks = self.rules.freeze_window_s // max(1, block_interval_s)
        self.frozen: frozenset[str] = frozenset()
        """Accounts no new escrow may name now."""
        self.colluders: set[str] = set()
        """Accounts of every pair flagged so far (frozen for good)."""
        self.flagged: set[tuple[str, str]] = set()
        """Pairs flagged so far."""
        self.ever_frozen: set[str] = set()
        """Every account the breaker froze at some block."""

    def update(self, deals: Iterable[Deal], head: int) -> None:
        """Recompute the frozen accounts from the agreements seen up to block ``head``."""
        rules = self.rules
        if not rules.active:
            return
        seen = list(deals)
        breaker: frozenset[str] = frozenset()
        if rules.freeze_defaults > 0:
            breaker = breaker_frozen(seen, head, self.window_blocks, rules.freeze_defaults)
            self.ever_frozen |= breaker
        if rules.collusion_z > 0:
            for pair in collusive_pairs(seen, rules.collusion_z, rules.collusion_min_deals):
                self.flagged.add(pair)
                self.colluders.update(pair)
        self.frozen = breaker | self.colluders

    def admits(self, proposer: str, counterparty: str) -> bool:
        """Whether an escrow between ``proposer`` and ``counterparty`` may be proposed now."""
        return proposer not in self.frozen and counterparty not in self.frozen

    def summary(self, names: dict[str, str]) -> dict[str, object]:
        """The ``governance`` section of a run's summary (accounts by agent name; flagged pairs
        as (proposer, counterparty))."""

        def named(accounts: Iterable[str]) -> list[str]:
            return sorted(names.get(a, a) for a in accounts)

        return {
            "breaker_frozen": named(self.ever_frozen),
            "collusion_flagged": [[names.get(a, a) for a in pair] for pair in sorted(self.flagged)],
        }


def treasury(escrow: Any) -> dict[str, float]:
    """``GovernedEscrow``'s treasury at the head, in tokens: tax collected, paid out as
    arbitration subsidies, and the balance left (collected minus paid, exactly in wei)."""
    f = escrow.functions
    collected, paid = int(f.taxCollected().call()), int(f.subsidised().call())
    return {
        "tax_collected": collected / 10**18,
        "subsidised": paid / 10**18,
        "balance": int(f.treasuryBalance().call()) / 10**18,
    }


def decay_weight(age_s: float, half_life_s: float) -> float:
    """``2^(-age / half_life)``; 1.0 without decay (``half_life_s`` 0)."""
    if half_life_s <= 0:
        return 1.0
    return 0.5 ** (max(0.0, age_s) / half_life_s)


def decayed_counts(
    deals: Iterable[Deal],
    subject: str,
    *,
    head: int,
    block_interval_s: int,
    half_life_s: float,
    min_stake: int,
) -> tuple[float, float]:
    """``subject``'s (good, bad) record as a seller under decay (see the module): per outcome,
    each distinct buyer weighted by the age of their latest dealing of that outcome (schema) with at
    least ``min_stake`` (price plus bonds, as the escrow records it) at stake."""
    latest: dict[tuple[str, str], int] = {}
    for deal in deals:
        if deal.counterparty != subject or deal.closed_block is None or deal.pot < min_stake:
            continue
        schema = _seller_schema(deal)
        if schema:
            key = (schema, deal.proposer)
            latest[key] = max(latest.get(key, deal.closed_block), deal.closed_block)
    sums = {True: 0.0, False: 0.0}
    for (schema, _), block in latest.items():
        weight = decay_weight((head - block) * block_interval_s, half_life_s)
        sums[schema in ("completed", "dispute-won")] += weight
    return sums[True], sums[False]


def _seller_schema(deal: Deal) -> str:
    """The attestation a closed ``deal`` recorded about its seller ("" for none)."""
    if deal.state == "Released":
        return "completed"
    if deal.state == "Ruled":
        return "dispute-lost" if seller_lost(deal) else "dispute-won"
    if deal.state == "TimedOut" and not deal.counterparty_confirmed:
        return "defaulted"
    return ""


def seller_margin(price: int, seller_bond: int, cost: int, tax_bps: int) -> int:
    """What a seller nets from an agreement released to it, in wei: ``GovernedEscrow`` pays it
    price and bond in one payout less ``floor(payout * tax_bps / 10_000)``, and it gets back
    less than the bond it posted; ``cost`` is what delivering costs it (0 for a seller that
    does not mean to deliver)."""
    payout = price + seller_bond
    return payout - payout * tax_bps // 10_000 - seller_bond - cost
