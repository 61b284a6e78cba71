"""A lending market in a market scenario: the ``[lending]`` table, its vault and its outcome.

``[lending]`` puts a ``CollateralVault`` (``contracts/CollateralVault.sol``) on the first of the
market's pools that trades its pair: borrowers deposit ``collateral`` and borrow ``debt`` up to
``collateral_factor_bps`` of their collateral's value at that pool's spot price; an unhealthy
position may be liquidated for ``bonus_bps`` of extra collateral, repaying at most
``close_factor_bps`` of its debt at a time. ``liquidity`` (whole tokens of ``debt``) is minted
to the vault before the run for borrowers to draw. The vault is the market's ``vault``
attribute (a :class:`Vault`); the strategies of
:mod:`agentbed.agents.market.strategies.flash_liquidator` borrow from it and liquidate on it.

:func:`lending_summary` is ``summary.json``'s ``lending``: the liquidations mined over the
measured blocks (``Liquidated`` events) and what the positions owe at the end, valued at the
oracle pool's final spot price (the price the vault itself uses):

* **bad debt**: Σ over positions of ``max(0, debt - collateral · price)``, debt no collateral
  covers any more, a loss to the vault whatever the liquidators do next;
* **liquidatable debt**: the debt of positions still over their limit at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector

from agentbed.agents.config import Table, token_amount

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from agentbed.agents.market.world import Market, Pool, PoolSpec
    from agentbed.agents.sim import Simulation
    from agentbed.chain.types import Receipt

BPS = 10_000
TOKEN_UNIT = 10**18
_POSITION_OF = function_signature_to_4byte_selector("positionOf(address)")


@dataclass(frozen=True, slots=True)
class LendingConfig:
    """The ``[lending]`` table.

    Attributes:
        collateral: Symbol of the collateral token.
        debt: Symbol of the token lent.
        collateral_factor_bps: Borrowing limit per unit of collateral value.
        bonus_bps: A liquidator's extra collateral over the repaid value.
        close_factor_bps: Most of a position's debt one liquidation may repay.
        liquidity: Wei of ``debt`` the vault holds to lend.
    """

    collateral: str
    debt: str
    collateral_factor_bps: int = 8_000
    bonus_bps: int = 500
    close_factor_bps: int = 5_000
    liquidity: int = 0


@dataclass(frozen=True, slots=True)
class Vault:
    """A deployed vault, as strategies read it.

    Attributes:
        address: The vault contract.
        pool: Its oracle pool (also where liquidators sell the collateral).
        collateral: Address of the collateral token.
        debt: Address of the debt token.
        config: Its parameters.
    """

    address: str
    pool: Pool
    collateral: str
    debt: str
    config: LendingConfig

    def reserves(self, reserves: tuple[int, int]) -> tuple[int, int]:
        """``(collateral, debt)`` reserves of the oracle pool from its ``(reserve0, reserve1)``."""
        r0, r1 = reserves
        return (r0, r1) if self.collateral == self.pool.token0 else (r1, r0)

    def limit(self, collateral: int, r_coll: int, r_debt: int) -> int:
        """The vault's borrowing limit of ``collateral`` at these reserves (its rounding)."""
        return collateral * r_debt * self.config.collateral_factor_bps // (r_coll * BPS)

    def seize(self, repay: int, r_coll: int, r_debt: int) -> int:
        """Collateral a liquidation repaying ``repay`` seizes at these reserves."""
        return repay * (BPS + self.config.bonus_bps) * r_coll // (BPS * r_debt)


def parse_lending(table: Table, pools: Sequence[PoolSpec]) -> LendingConfig:
    """The ``[lending]`` table; a pool of the pair must exist."""
    table.expect(
        (
            "collateral",
            "debt",
            "collateral_factor_bps",
            "bonus_bps",
            "close_factor_bps",
            "liquidity",
        )
    )
    collateral, debt = table.string("collateral"), table.string("debt")
    if not any({p.token0, p.token1} == {collateral, debt} for p in pools):
        raise table.error(
            "debt", f"expected a pair some [[pools]] entry trades, got {collateral}/{debt}"
        )
    factor = table.integer("collateral_factor_bps", 8_000, minimum=1)
    if factor >= BPS:
        raise table.error(
            "collateral_factor_bps", f"expected an integer in [1, {BPS}), got {factor}"
        )
    bonus = table.integer("bonus_bps", 500, minimum=0)
    if factor * (BPS + bonus) >= BPS * BPS:
        raise table.error(
            "bonus_bps",
            f"expected collateral_factor_bps · (1 + bonus) below 100 %, got {factor} and {bonus}",
        )
    close = table.integer("close_factor_bps", 5_000, minimum=1)
    if close > BPS:
        raise table.error("close_factor_bps", f"expected an integer in [1, {BPS}], got {close}")
    liquidity = token_amount(table, "liquidity", default=0)
    return LendingConfig(collateral, debt, factor, bonus, close, liquidity)


def deploy_vault(
    market: Market, config: LendingConfig, *, deployer: LocalAccount | None = None
) -> Vault:
    """Deploy the vault on the pair's first pool, mint its liquidity, set ``market.vault``."""
    owner = deployer or market.chain.accounts[0]
    pool = next(
        p for p in market.pools if {p.symbol0, p.symbol1} == {config.collateral, config.debt}
    )
    collateral = market.tokens[config.collateral]
    contract = market.chain.deploy(
        "CollateralVault",
        pool.address,
        collateral,
        config.collateral_factor_bps,
        config.bonus_bps,
        config.close_factor_bps,
        sender=owner,
    )
    vault = Vault(str(contract.address), pool, collateral, market.tokens[config.debt], config)
    market.fund({vault.address: {config.debt: config.liquidity}}, minter=owner)
    setattr(market, "vault", vault)  # noqa: B010  # the lending strategies' attribute, not every market's
    return vault


def vault_of(market: Any) -> Vault:
    """The market's vault; a clear error when the scenario has no ``[lending]`` table."""
    vault = getattr(market, "vault", None)
    if not isinstance(vault, Vault):
        raise ValueError("borrowers and liquidators need a lending market: add a [lending] table")
    return vault


def position_of(reader: Any, vault: Vault, borrower: str) -> tuple[int, int]:
    """``(collateral, debt)`` of ``borrower`` at the head (``reader.call``, or a chain)."""
    raw = reader.call(vault.address, _POSITION_OF + encode(("address",), (borrower,)))
    collateral, debt = decode(("uint256", "uint256"), raw)
    return int(collateral), int(debt)


def liquidations(receipts: Sequence[Receipt], vault: Vault) -> list[dict[str, Any]]:
    """The vault's ``Liquidated`` events in ``receipts``, in order."""
    found = []
    for receipt in receipts:
        for log in receipt.logs:
            event = log.event
            if log.address == vault.address and event is not None and event.name == "Liquidated":
                found.append(dict(event.args))
    return found


def lending_summary(sim: Simulation, market: Market, vault: Vault) -> dict[str, Any]:
    """``summary.json``'s ``lending`` (see the module docstring); amounts in whole debt tokens."""
    receipts = [r for m in sim.metrics for r in sim.chain.receipts(m.number)]
    done = liquidations(receipts, vault)
    r_coll, r_debt = vault.reserves(market.reserves[vault.pool.address])
    bad = liquidatable = owed = 0
    positions = 0
    for agent in sim.agents:
        collateral, debt = position_of(sim.chain, vault, agent.address)
        if debt == 0:
            continue
        positions += 1
        owed += debt
        bad += max(0, debt - collateral * r_debt // r_coll)
        if debt > vault.limit(collateral, r_coll, r_debt):
            liquidatable += debt
    return {
        "liquidations": len(done),
        "liquidators": len({str(e["liquidator"]) for e in done}),
        "repaid": sum(int(e["repaid"]) for e in done) / TOKEN_UNIT,
        "positions_open": positions,
        "debt_left": owed / TOKEN_UNIT,
        "liquidatable_debt": liquidatable / TOKEN_UNIT,
        "bad_debt": bad / TOKEN_UNIT,
        "final_price": r_debt / r_coll,
    }
