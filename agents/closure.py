"""Closure of a run's books: every holder's token and ETH balances at the start and the end of
the measured blocks, and the identities they must satisfy.

A study names the ERC-20 tokens it cares about and the addresses it knows (its agents, its
contracts, the deployer); :func:`balance_ledger` adds every address any ``Transfer`` log of those
tokens ever touched and every sender, recipient and coinbase of the measured blocks, and reads:

* **Token balances** by replaying every ``Transfer`` log of each token from the chain's first
  block, so each holder's balance after any block is exact in the smallest unit. A ``Transfer``
  from ``address(0)`` is a mint and one to ``address(0)`` a burn; ``address(0)`` is never a
  holder. The identity per token: the sum of all holders' changes over the measured blocks equals
  minted minus burned in them, and so does the change of ``totalSupply()`` read from the chain
  (which catches a token that moves balances without a log).
* **ETH balances** from the chain's state after the block before the first measured one and
  after the last. The identity: the sum of all holders' changes plus the base fee burned in the
  measured blocks is zero (no block reward on this chain). A holder missing from the set — an
  address that got ETH from an internal call no log or transaction names — shows as a residual.

Both studies (market and economy) report these identities on every run; they hold exactly, in
wei, and the tests assert it on every bundled scenario.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from agentbed.agents.erc20 import TRANSFER_TOPIC, transfers

if TYPE_CHECKING:
    from agentbed.chain.node import Chain
    from agentbed.chain.types import Log

ZERO = "0x" + "00" * 20
_TOTAL_SUPPLY = function_signature_to_4byte_selector("totalSupply()")


class _Changes:
    """Balance changes of a ledger with ``start`` and ``end`` balances by holder."""

    __slots__ = ()
    start: Mapping[str, int]
    end: Mapping[str, int]

    def change(self, holder: str) -> int:
        """``holder``'s balance change over the measured blocks (wei)."""
        return self.end.get(holder, 0) - self.start.get(holder, 0)

    @property
    def total_change(self) -> int:
        """The sum of every holder's change (wei)."""
        return sum(self.end.values()) - sum(self.start.values())


@dataclass(frozen=True, slots=True)
class TokenLedger(_Changes):
    """One token's balances at the start and the end of the measured blocks.

    Attributes:
        token: The token contract's address.
        symbol: Its display name.
        start: Balance by holder after the block before the first measured one.
        end: Balance by holder after the last measured block.
        minted: Units minted in the measured blocks (``Transfer`` from ``address(0)``).
        burned: Units burned in them (``Transfer`` to ``address(0)``).
        supply_start: ``totalSupply()`` read at the start.
        supply_end: ``totalSupply()`` read at the end.
    """

    token: str
    symbol: str
    start: Mapping[str, int]
    end: Mapping[str, int]
    minted: int
    burned: int
    supply_start: int
    supply_end: int

    @property
    def residual(self) -> int:
        """Sum of changes minus (minted - burned): zero when the token's books close."""
        return self.total_change - (self.minted - self.burned)

    @property
    def supply_residual(self) -> int:
        """Change of ``totalSupply()`` minus (minted - burned): zero for an honest token."""
        return self.supply_end - self.supply_start - (self.minted - self.burned)


@dataclass(frozen=True, slots=True)
class EthLedger(_Changes):
    """ETH balances at the start and the end of the measured blocks.

    Attributes:
        start: Wei by holder after the block before the first measured one.
        end: Wei by holder after the last measured block.
        burned: Base fee burned in the measured blocks, in wei.
    """

    start: Mapping[str, int]
    end: Mapping[str, int]
    burned: int

    @property
    def residual(self) -> int:
        """Sum of changes plus burned base fee: zero when ETH's books close."""
        return self.total_change + self.burned


@dataclass(frozen=True, slots=True)
class Ledger:
    """Every holder's balances of the tracked tokens and of ETH over the measured blocks.

    Attributes:
        first: First measured block.
        last: Last measured block.
        holders: Every address counted, sorted.
        tokens: One ledger per tracked token, in the order they were given.
        eth: The ETH ledger.
    """

    first: int
    last: int
    holders: tuple[str, ...]
    tokens: tuple[TokenLedger, ...]
    eth: EthLedger

    @property
    def closes(self) -> bool:
        """Whether every identity holds exactly."""
        return self.eth.residual == 0 and all(
            t.residual == 0 and t.supply_residual == 0 for t in self.tokens
        )

    def summary(self) -> dict[str, Any]:
        """The identities as plain data for ``summary.json`` (amounts in wei)."""
        return {
            "blocks": [self.first, self.last],
            "addresses": len(self.holders),
            "closes": self.closes,
            "eth": {
                "change_wei": self.eth.total_change,
                "burned_wei": self.eth.burned,
                "residual_wei": self.eth.residual,
            },
            "tokens": {
                t.symbol: {
                    "change_wei": t.total_change,
                    "minted_wei": t.minted,
                    "burned_wei": t.burned,
                    "residual_wei": t.residual,
                    "supply_residual_wei": t.supply_residual,
                }
                for t in self.tokens
            },
        }


def transfers_of(logs: Iterable[Log]) -> list[tuple[int, str, str, str, int]]:
    """``(block, token, from, to, amount)`` of every ERC-20 ``Transfer`` among ``logs``.

    Logs with the ``Transfer`` topic but not three topics (an ERC-721 has four) are skipped.
    """
    return [(t.block, t.token, t.source, t.target, t.amount) for t in transfers(logs)]


def token_ledger(
    transfers: Iterable[tuple[int, str, str, str, int]],
    token: str,
    symbol: str,
    first: int,
    last: int,
    supply: tuple[int, int],
) -> TokenLedger:
    """One token's ledger from its transfers up to ``last`` (all of them, from the first block).

    Args:
        transfers: ``(block, token, from, to, amount)``; other tokens' entries are ignored.
        token: The token's address.
        symbol: Its display name.
        first: First measured block.
        last: Last measured block (later transfers are ignored).
        supply: ``totalSupply()`` at the start and at the end.
    """
    start: dict[str, int] = defaultdict(int)
    end: dict[str, int] = defaultdict(int)
    minted = burned = 0
    for number, address, source, target, amount in transfers:
        if address != token or number > last:
            continue
        books = (start, end) if number < first else (end,)
        for book in books:
            if source != ZERO:
                book[source] -= amount
            if target != ZERO:
                book[target] += amount
        if number >= first:
            minted += amount if source == ZERO else 0
            burned += amount if target == ZERO else 0
    return TokenLedger(token, symbol, dict(start), dict(end), minted, burned, *supply)


def balance_ledger(
    chain: Chain,
    tokens: Mapping[str, str],
    numbers: Sequence[int],
    known: Iterable[str] = (),
) -> Ledger:
    """Every holder's token and ETH balances over the measured blocks ``numbers``.

    Args:
        chain: The chain after the run.
        tokens: Symbol by token address: the ERC-20 tokens to keep books of.
        numbers: The measured blocks (consecutive); empty measures nothing.
        known: Addresses to count besides those found (agents, contracts, the deployer).
    """
    # No measured blocks: an empty window after the head, where every change is 0.
    first, last = (
        (numbers[0], numbers[-1]) if numbers else (chain.block_number + 1, chain.block_number)
    )
    before = first - 1
    logs = chain.logs(address=list(tokens), topics=[TRANSFER_TOPIC], from_block=0, to_block=last)
    transfers = transfers_of(logs)
    holders: set[str] = {to_checksum_address(a) for a in known}
    holders.update(tokens)
    holders.update(a for t in transfers for a in (t[2], t[3]))
    burned = 0
    for number in range(first, last + 1):
        block = chain.block(number)
        burned += block.burned
        holders.add(block.coinbase)
        for receipt in chain.receipts(number):
            holders.add(receipt.sender)
            if receipt.to is not None:
                holders.add(receipt.to)
            if receipt.contract_address is not None:
                holders.add(receipt.contract_address)
    holders.discard(ZERO)
    order = tuple(sorted(holders))
    ledgers = tuple(
        token_ledger(
            transfers,
            token,
            symbol,
            first,
            last,
            (_total_supply(chain, token, before), _total_supply(chain, token, last)),
        )
        for token, symbol in tokens.items()
    )
    eth = EthLedger(
        {h: chain.balance(h, before) for h in order},
        {h: chain.balance(h, last) for h in order},
        burned,
    )
    return Ledger(first, last, order, ledgers, eth)


def _total_supply(chain: Chain, token: str, block: int) -> int:
    """``totalSupply()`` of ``token`` after ``block`` (0 before the token existed)."""
    if block < 0:
        return 0
    # A call to an address without code at ``block`` returns nothing, read as 0.
    return int.from_bytes(chain.call(token, _TOTAL_SUPPLY, block_number=block), "big")


def closure_line(summary: Mapping[str, Any], valued: str = "") -> str:
    """The report's closure line from :meth:`Ledger.summary` (plus an optional valued part)."""
    tokens = summary["tokens"]
    per_token = ", ".join(f"{s} {t['residual_wei']}" for s, t in tokens.items())
    line = (
        f"Closure over blocks {summary['blocks'][0]}-{summary['blocks'][1]}: Σ changes of "
        f"{summary['addresses']} addresses + burned base fee = {summary['eth']['residual_wei']} "
        f"wei ETH; per token, Σ changes - (minted - burned) = {per_token or 'none'} wei"
    )
    if valued:
        line += f"; {valued}"
    return line + (" (exact in wei)." if summary["closes"] else " (DOES NOT CLOSE).")
