"""The market run's closure: every address that holds value, valued at the same prices at the
start and the end of the measured blocks, so that what anyone gained someone else paid.

The exact part is :func:`agentbed.agents.closure.balance_ledger` on the market's tokens and its
pools' LP shares: per token, the holders' changes sum to minted minus burned, to the wei, and
the ETH changes plus the burned base fee sum to zero.

The valued part counts each address's **underlying tokens**, LP shares looked through: a
holder of ``s`` of a pool's ``S`` shares holds ``floor(s · b / S)`` of each token ``b`` the pool
contract holds, and the pool contract keeps what is not claimed (the rounding dust, and the
the dust of the floors). The ``MINIMUM_LIQUIDITY`` shares a first deposit locks at the dead
address ``0x…dEaD`` are a holder like any other, with its own row. LP shares
are therefore never valued on their own: valuing them and the pool's tokens both would count
the pool's reserves twice. The floor keeps every token's books exact in wei after the look
through, since the pool's row takes exactly what the holders' claims leave. Tokens are valued at
the end's reference prices (:class:`~agentbed.agents.market.valuation.Valuation`) at both ends,
so that a price move is nobody's gain; ETH at the numeraire's ETH price. The identity:

    Σ over addresses (value_end - value_start) + burned base fee - Σ tokens (minted - burned)

is zero up to float rounding of the valuation, and is reported as the valued residual.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentbed.agents.closure import Ledger, TokenLedger, balance_ledger

if TYPE_CHECKING:
    from agentbed.agents.market.valuation import Valuation
    from agentbed.agents.market.world import Market
    from agentbed.agents.sim import Simulation

ALWAYS_SHOWN = frozenset({"deployer / passive LP", "pool", "builder"})
"""Kinds of address that get a holders row even when nothing of theirs changed."""
Holdings = dict[str, dict[str, int]]
DEAD = "0x000000000000000000000000000000000000dEaD"
"""Where ``ConstantProductPool`` locks the first deposit's ``MINIMUM_LIQUIDITY`` shares."""
"""Underlying token units by holder, then token address."""


def holder_names(
    sim: Simulation, market: Market, ledger: Ledger, kinds: Mapping[str, str]
) -> dict[str, tuple[str, str]]:
    """``(name, kind)`` of every address of ``ledger``: agents by their names, then the pool
    deployer, the coinbase, the market's contracts, and any other address as itself."""
    names: dict[str, tuple[str, str]] = {}
    for pool in market.pools:
        names[pool.address] = (f"pool {pool.symbol0}/{pool.symbol1}", "pool")
    for symbol, address in market.tokens.items():
        names[address] = (f"token {symbol}", "token contract")
    if market.factory is not None:
        names[market.factory] = ("pool factory", "contract")
    board = getattr(market, "intent_board", None)
    if board is not None:
        names[board.book] = ("intent book", "contract")
    lender = getattr(market, "flash_lender", None)
    if lender is not None:
        names[lender] = ("flash lender", "contract")
    production = sim.production
    if production is not None:  # the block-production game's builders and proposers
        for name, address in production.builder_addresses.items():
            names[address] = (f"builder {name}", "builder")
        for name, address in production.proposer_addresses.items():
            names[address] = (f"proposer {name}", "proposer")
    vault = getattr(market, "vault", None)
    if vault is not None:
        names[vault.address] = ("lending vault", "contract")
    for number in range(ledger.first, ledger.last + 1):
        names.setdefault(sim.chain.block(number).coinbase, ("coinbase", "builder"))
    names.setdefault(sim.chain.accounts[0].address, ("deployer", "deployer / passive LP"))
    names.setdefault(DEAD, ("dead address (locked LP shares)", "locked"))
    for agent in sim.agents:
        names[agent.address] = (agent.name, kinds.get(agent.name, agent.kind))
    return {h: names.get(h, (h, "other")) for h in ledger.holders}


def look_through(market: Market, ledger: Ledger, end: bool) -> Holdings:
    """Every holder's underlying token units at the start (``end`` False) or the end, with
    LP shares replaced by their floor share of their pool's tokens (see the module docstring)."""
    books: dict[str, TokenLedger] = {t.token: t for t in ledger.tokens}
    held: Holdings = defaultdict(lambda: defaultdict(int))
    for token in market.tokens.values():
        for holder, amount in _side(books[token], end).items():
            held[holder][token] += amount
    for pool in market.pools:
        shares = {h: s for h, s in _side(books[pool.address], end).items() if s}
        supply = sum(shares.values())
        if supply == 0:
            continue
        for token in (pool.token0, pool.token1):
            reserve = _side(books[token], end).get(pool.address, 0)
            for holder, share in shares.items():
                claim = share * reserve // supply
                held[holder][token] += claim
                held[pool.address][token] -= claim
    return held


def _side(book: TokenLedger, end: bool) -> Mapping[str, int]:
    return book.end if end else book.start


def _value(valuation: Valuation, tokens: Mapping[str, int], wei: int) -> float:
    return sum(valuation.value(t, a) for t, a in tokens.items()) + valuation.value_eth(wei)


def market_closure(
    sim: Simulation, market: Market, valuation: Valuation, kinds: Mapping[str, str]
) -> dict[str, Any]:
    """The closure of a market run, for ``summary.json``.

    Holds :meth:`Ledger.summary` (exact identities in wei, the LP shares as their own token
    ``LP:A/B``), ``valued`` (the sum of every address's value change, the burned base fee and
    the net mint, each in the numeraire, and ``residual``), and ``holders``: one row per address
    that is not an agent (agents are in the agents table; their total is ``valued.agents``).

    Args:
        sim: The finished simulation.
        market: Its market.
        valuation: Reference prices (the end's, applied at both ends).
        kinds: Scenario kind per agent name.
    """
    tokens = {address: symbol for symbol, address in market.tokens.items()}
    tokens.update((p.address, valuation.symbols.get(p.address, p.address)) for p in market.pools)
    known = [a.address for a in sim.agents] + [a.address for a in sim.chain.accounts]
    known += [market.factory] if market.factory is not None else []
    board = getattr(market, "intent_board", None)
    known += [board.book] if board is not None else []
    ledger = balance_ledger(sim.chain, tokens, [m.number for m in sim.metrics], known)
    names = holder_names(sim, market, ledger, kinds)
    start, end = look_through(market, ledger, False), look_through(market, ledger, True)
    agents = {a.address for a in sim.agents}
    rows: list[dict[str, Any]] = []
    agents_total = 0.0
    changes = 0.0
    for holder in ledger.holders:
        delta_wei = ledger.eth.change(holder)
        units = {t: end[holder][t] - start[holder][t] for t in market.tokens.values()}
        value = _value(valuation, units, delta_wei)
        changes += value
        if holder in agents:
            agents_total += value
            continue
        name, kind = names[holder]
        if not delta_wei and not any(units.values()) and kind not in ALWAYS_SHOWN:
            continue  # an idle address (a funded but unused dev account): no row
        rows.append(
            {
                "name": name,
                "kind": kind,
                "address": holder,
                "value_change": value,
                "eth_change_wei": delta_wei,
                "tokens_wei": {tokens[t]: a for t, a in units.items() if a},
            }
        )
    minted = sum(
        valuation.value(t.token, t.minted - t.burned)
        for t in ledger.tokens
        if t.token in market.tokens.values()
    )
    burned = valuation.value_eth(ledger.eth.burned)
    summary = ledger.summary()
    summary["valued"] = {
        "changes": changes,
        "agents": agents_total,
        "burned": burned,
        "net_minted": minted,
        "residual": changes + burned - minted,
    }
    summary["holders"] = sorted(rows, key=lambda r: (-r["value_change"], r["address"]))
    return summary
