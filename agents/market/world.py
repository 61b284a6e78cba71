"""The market of a simulation: tokens, pools on their venues, and a reference price.

``Market.deploy`` puts mock ERC-20 tokens, a ``PoolFactory`` and seeded pools on a chain, each
pool on its venue (:mod:`agentbed.agents.market.venues`: our ``ConstantProductPool`` by
default, or Uniswap v2 pairs behind Router02). The venues are how the market and its agents
read and write pool calls: ``quote``, ``swap``, ``approvals``, ``pending_swap(s)`` (plus any
decoders added with ``add_decoder``) and ``is_unknown_call`` all ask the pool's venue. During
the run the market keeps each pool's reserves current from its venue's reserve logs of every
block (no extra EVM calls) and moves each pair's external reference price by a seeded random
walk (pools of one pair share it), which arbitrageurs trade toward. Agents read the market;
only transactions change the pools.
An ``IntentBook`` variant can be deployed on the market's factory
(``deploy_intent_book``); its off-chain ``IntentBoard`` is where intent makers post signed
intents for solvers.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from agentbed.agents.agent import TxIntent, derive_seed
from agentbed.agents.erc20 import APPROVE_GAS, MAX_UINT, approve_calldata, approve_intent
from agentbed.agents.market.intent_settlement import SettlementDecoder
from agentbed.agents.market.intents import Intent, OnUnmetCondition, Pricing, intent_digest
from agentbed.agents.market.venues import DEPLOYERS, ConstantProductVenue, constant_product
from agentbed.agents.market.venues.protocol import (
    DEFAULT_VENUE,
    PendingDecoder,
    Pool,
    PoolSpec,
    SwapCall,
    Venue,
)
from agentbed.chain.deployer import deploy_address

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from agentbed.chain.node import Chain
    from agentbed.chain.types import Block, Receipt, Transaction

__all__ = ["SWAP_GAS", "Market", "Pool", "PoolSpec", "SwapCall", "decode_swap", "swap_calldata"]

_MINT = function_signature_to_4byte_selector("mint(address,uint256)")
_CREATE_POOL = function_signature_to_4byte_selector("createPool(address,address,uint256)")
_GET_POOL = function_signature_to_4byte_selector("getPool(address,address,uint256)")
_TOKEN0 = function_signature_to_4byte_selector("token0()")
_ADD_LIQUIDITY = function_signature_to_4byte_selector(
    "addLiquidity(uint256,uint256,uint256,address,uint256)"
)
POOL_CONTRACT = "ConstantProductPool"
SWAP_GAS = constant_product.SWAP_GAS
SWAP_SELECTOR = constant_product.SWAP_SELECTOR
swap_calldata = constant_product.swap_calldata
decode_swap = constant_product.decode_swap
"""Our pool's ``swapExactIn`` calldata codec (kept here for callers that name the pool
directly; agents go through the market's venues)."""


class Market:
    """Tokens, pools, live reserves and reference prices for one simulation.

    Build it with ``Market.deploy``. Reference prices are token1 per token0 (the pool's
    ``reserve1 / reserve0`` orientation) and follow a geometric random walk with per-block
    volatility ``volatility``, seeded from the root seed.
    """

    def __init__(
        self,
        chain: Chain,
        tokens: Mapping[str, str],
        pools: Sequence[Pool],
        *,
        seed: int,
        volatility: float,
        factory: str | None = None,
        venues: Sequence[Venue] = (),
    ) -> None:
        self.chain = chain
        self.factory = factory
        self.intent_board: IntentBoard | None = None
        self.router: str | None = None
        """A ``Router`` for multi-hop orders, once ``routing_calls.attach_router`` deployed one."""
        self.flash_lender: str | None = None
        """An ERC-3156 lender next to the pools (``agentbed.agents.market.flash_lending``)."""
        self.tokens = dict(tokens)
        self.symbols = {address: symbol for symbol, address in tokens.items()}
        self.pools = tuple(pools)
        self.by_address = {p.address: p for p in self.pools}
        self.volatility = volatility
        self.venues: dict[str, Venue] = {v.name: v for v in venues}
        ours = {p.address: p.fee_bps for p in self.pools if p.venue == DEFAULT_VENUE}
        if ours and DEFAULT_VENUE not in self.venues:
            pairs = {p.address: (p.token0, p.token1) for p in self.pools if p.address in ours}
            self.venues[DEFAULT_VENUE] = ConstantProductVenue(ours, pairs)
        missing = sorted({p.venue for p in self.pools} - set(self.venues))
        if missing:
            raise ValueError(f"no venue given for the pools of venue(s) {', '.join(missing)}")
        self._venue_at = {p.address: self.venues[p.venue] for p in self.pools}
        self.decoders: list[PendingDecoder] = list(self.venues.values())
        """What :meth:`pending_swaps` consults, in order: the venues, then added decoders."""
        self.reserves: dict[str, tuple[int, int]] = {}
        for pool in self.pools:
            raw = chain.call(pool.address, function_signature_to_4byte_selector("getReserves()"))
            r0, r1 = decode(("uint256", "uint256"), raw[:64])  # a v2 pair adds a timestamp
            self.reserves[pool.address] = (r0, r1)
        self.reference: dict[str, float] = {
            p.address: self.reserves[p.address][1] / self.reserves[p.address][0] for p in self.pools
        }
        self._walk = random.Random(derive_seed(seed, "reference-price"))

    @classmethod
    def deploy(
        cls,
        chain: Chain,
        specs: Sequence[PoolSpec],
        *,
        seed: int = 0,
        volatility: float = 0.0,
        deployer: LocalAccount | None = None,
    ) -> Market:
        """Deploy a mock token per symbol, a factory and the pools with their liquidity."""
        owner = deployer or chain.accounts[0]
        symbols = sorted({s for spec in specs for s in (spec.token0, spec.token1)})
        # By address and calldata, not web3 contract objects: a run then never imports web3.
        tokens = {
            sym: deploy_address(chain, "MockERC20", sym, sym, sender=owner) for sym in symbols
        }
        factory = deploy_address(chain, "PoolFactory", sender=owner)
        for spec in specs:
            if spec.token0 == spec.token1:
                raise ValueError(f"pool {spec.token0}/{spec.token1}: the two tokens must differ")
            if spec.venue not in DEPLOYERS:
                raise ValueError(
                    f"pool {spec.token0}/{spec.token1}: unknown venue {spec.venue!r}; "
                    f"expected one of {', '.join(DEPLOYERS)}"
                )
        placed: dict[int, Pool] = {}
        for index, spec in enumerate(specs):
            if spec.venue != DEFAULT_VENUE:
                continue
            pair = encode(
                ("address", "address", "uint256"),
                (tokens[spec.token0], tokens[spec.token1], spec.fee_bps),
            )
            chain.transact(
                owner,
                to=factory,
                data=_CREATE_POOL + pair,
                gas=min(4_000_000, chain.gas_limit),  # createPool uses ~1.5M
            )
            chain.mine()
            (address,) = decode(("address",), chain.call(factory, _GET_POOL + pair))
            address = to_checksum_address(address)
            chain.abi.register(POOL_CONTRACT, chain.artifacts.get(POOL_CONTRACT).abi, address)
            (t0,) = decode(("address",), chain.call(address, _TOKEN0))
            t0 = to_checksum_address(t0)
            flip = t0 != tokens[spec.token0]
            amount0, amount1 = (
                (spec.reserve1, spec.reserve0) if flip else (spec.reserve0, spec.reserve1)
            )
            sym0, sym1 = (spec.token1, spec.token0) if flip else (spec.token0, spec.token1)
            for sym, amount in ((sym0, amount0), (sym1, amount1)):
                chain.transact(
                    owner,
                    to=tokens[sym],
                    data=_MINT + encode(("address", "uint256"), (owner.address, amount)),
                    gas=APPROVE_GAS * 2,
                )
                chain.transact(
                    owner,
                    to=tokens[sym],
                    data=approve_calldata(address, amount),
                    gas=APPROVE_GAS,
                )
            liquidity = encode(
                ("uint256", "uint256", "uint256", "address", "uint256"),
                (amount0, amount1, 0, owner.address, MAX_UINT),
            )
            chain.transact(owner, to=address, data=_ADD_LIQUIDITY + liquidity, gas=400_000)
            chain.mine()
            placed[index] = Pool(str(address), tokens[sym0], tokens[sym1], sym0, sym1, spec.fee_bps)
        venues: list[Venue] = []
        for name, deploy_pools in DEPLOYERS.items():
            indices = [i for i, spec in enumerate(specs) if spec.venue == name]
            if deploy_pools is None or not indices:
                continue
            venue, deployed = deploy_pools(chain, owner, tokens, [specs[i] for i in indices])
            venues.append(venue)
            placed.update(zip(indices, deployed, strict=True))
        pools = [placed[i] for i in range(len(specs))]
        return cls(
            chain,
            tokens,
            pools,
            seed=seed,
            volatility=volatility,
            factory=factory,
            venues=venues,
        )

    # -- funding and approvals ------------------------------------------------------------------

    def fund(
        self, holders: Mapping[str, Mapping[str, int]], *, minter: LocalAccount | None = None
    ) -> None:
        """Mint tokens to agents before the run: ``{address: {symbol: amount}}``; mined at once."""
        owner = minter or self.chain.accounts[0]
        for holder, amounts in holders.items():
            for symbol, amount in amounts.items():
                if amount > 0:
                    data = _MINT + encode(("address", "uint256"), (holder, amount))
                    self.chain.transact(
                        owner, to=self.tokens[symbol], data=data, gas=APPROVE_GAS * 2
                    )
        self.chain.mine()

    def approvals(self, spenders: Sequence[str] | None = None) -> tuple[TxIntent, ...]:
        """Unlimited approvals of every token to each spender (default: whom each pool's
        venue has traders approve, and the LP shares of pools whose venue needs them
        approved for a withdrawal)."""
        if spenders is not None:
            return tuple(
                approve_intent(token, s) for s in spenders for token in self.tokens.values()
            )
        targets = dict.fromkeys(self.venue_of(p).spender(p.address) for p in self.pools)
        intents = [approve_intent(token, s) for s in targets for token in self.tokens.values()]
        for pool in self.pools:
            share_spender = self.venue_of(pool).share_spender(pool.address)
            if share_spender is not None:
                intents.append(approve_intent(pool.address, share_spender))
        return tuple(intents)

    def deploy_intent_book(
        self,
        pricing: Pricing = Pricing.PAY_AS_FILLED,
        on_unmet: OnUnmetCondition = OnUnmetCondition.SKIP,
        share_bps: int = 0,
        *,
        deployer: LocalAccount | None = None,
    ) -> str:
        """Deploy an ``IntentBook`` variant on the market's factory; open its ``intent_board``.

        Mined at once (before a run). Makers approve the book with
        ``approvals([market.intent_board.book])``.

        Raises:
            ValueError: the market does not know its pool factory (built without ``factory``).
        """
        if self.factory is None:
            raise ValueError("the market has no pool factory: build it with Market.deploy")
        owner = deployer or self.chain.accounts[0]
        book = self.chain.deploy(
            "IntentBook", self.factory, int(pricing), int(on_unmet), share_bps, sender=owner
        )
        address = str(book.address)
        self.intent_board = IntentBoard(address, self.chain.chain_id, pricing, on_unmet, share_bps)
        self.add_decoder(SettlementDecoder(self, self.intent_board))
        return address

    # -- reading ---------------------------------------------------------------------------------

    def reserves_for(self, pool: Pool, token_in: str) -> tuple[int, int]:
        """(reserve of ``token_in``, reserve of the other token) as of the last block."""
        r0, r1 = self.reserves[pool.address]
        return (r0, r1) if token_in == pool.token0 else (r1, r0)

    def quote(self, pool: Pool, token_in: str, amount_in: int) -> int:
        """Output of swapping ``amount_in`` at the last block's reserves (the venue's math)."""
        r_in, r_out = self.reserves_for(pool, token_in)
        return self.venue_of(pool).amount_out(amount_in, r_in, r_out, pool.address)

    def reference_prices(self, numeraire: str) -> dict[str, float]:
        """Reference price, in units of token ``numeraire`` (an address), of every token
        reachable from it through the pools (walking each pool's reference price)."""
        prices: dict[str, float] = {numeraire: 1.0}
        changed = True
        while changed:
            changed = False
            for pool in self.pools:
                ref = self.reference[pool.address]  # token1 per token0
                if pool.token1 in prices and pool.token0 not in prices:
                    prices[pool.token0] = ref * prices[pool.token1]
                    changed = True
                elif pool.token0 in prices and pool.token1 not in prices:
                    prices[pool.token1] = prices[pool.token0] / ref
                    changed = True
        return prices

    def price(self, pool: Pool) -> float:
        """The pool's marginal price, token1 per token0."""
        r0, r1 = self.reserves[pool.address]
        return r1 / r0

    def swap(
        self,
        pool: Pool,
        token_in: str,
        amount_in: int,
        min_out: int,
        to: str,
        *,
        tip: int,
        label: str = "trade",
        deadline: int = MAX_UINT,
        **meta: object,
    ) -> TxIntent:
        """An exact-input swap on ``pool``, as its venue encodes it (a pool or router call)."""
        call = self.venue_of(pool).encode_swap(
            pool.address, token_in, amount_in, min_out, to, deadline
        )
        return TxIntent(to=call.to, data=call.data, gas=call.gas, tip=tip, label=label, meta=meta)

    # -- venues ----------------------------------------------------------------------------------

    def venue_of(self, pool: Pool | str) -> Venue:
        """The venue of a pool (or of the pool at an address)."""
        return self._venue_at[pool if isinstance(pool, str) else pool.address]

    def add_decoder(self, decoder: PendingDecoder) -> None:
        """Consult ``decoder`` too (after the venues) when reading pending transactions; e.g.
        one that reads an intent book's solver settlements into the swaps they make."""
        self.decoders.append(decoder)

    def pending_swaps(self, to: str | None, data: bytes) -> tuple[SwapCall, ...]:
        """The swaps a transaction will make, from the first decoder that reads it (none: ())."""
        for decoder in self.decoders:
            swaps = decoder.decode_call(to, data)
            if swaps is not None:
                return swaps
        return ()

    def pending_swap(self, tx: Transaction) -> SwapCall | None:
        """The one swap ``tx`` makes on one of the market's pools, selling one of the pool's
        tokens; None for anything else (not a swap, a multi-hop route, an unknown pool)."""
        swaps = self.pending_swaps(tx.to, tx.data)
        if len(swaps) != 1:
            return None
        pool = self.by_address.get(swaps[0].pool)
        if pool is None or swaps[0].token_in not in (pool.token0, pool.token1):
            return None
        return swaps[0]

    def touches(self, tx: Transaction, pool: Pool) -> bool:
        """Whether ``tx`` calls ``pool`` or makes a swap on it (e.g. through a router)."""
        if tx.to == pool.address:
            return True
        return any(s.pool == pool.address for s in self.pending_swaps(tx.to, tx.data))

    def is_unknown_call(self, to: str | None, data: bytes) -> bool:
        """Whether a call to one of the venues' addresses has a selector its venue does not
        know, or a swap it cannot decode (see :mod:`agentbed.agents.market.venues.protocol`)."""
        if to is None:
            return False
        for venue in self.venues.values():
            if to in venue.targets():
                return not venue.knows_call(to, data)
        return False

    # -- updating --------------------------------------------------------------------------------

    def on_block(self, block: Block, receipts: Sequence[Receipt]) -> None:
        """Take the reserves from the block's ``Sync`` logs and step the reference prices."""
        for receipt in receipts:
            for log in receipt.logs:
                venue = self._venue_at.get(log.address)
                if venue is not None:
                    reserves = venue.decode_sync(log)
                    if reserves is not None:
                        self.reserves[log.address] = reserves
        if self.intent_board is not None:
            self.intent_board.on_block(receipts)
        if self.volatility > 0:
            # One step per pair: two pools of one pair price the same asset, so their reference
            # moves together (one draw per pool, as before, when every pool has its own pair).
            steps: dict[tuple[str, str], float] = {}
            for pool in self.pools:
                pair = (pool.token0, pool.token1)
                if pair not in steps:
                    steps[pair] = math.exp(self._walk.gauss(0.0, self.volatility))
                self.reference[pool.address] *= steps[pair]


# -- the off-chain order board of an intent book ----------------------------------------------


@dataclass(frozen=True, slots=True)
class PostedIntent:
    """A signed intent on the board.

    Attributes:
        intent: What the maker signed.
        signature: The maker's 65-byte EIP-712 signature.
        digest: The intent's EIP-712 digest (its id in the book's events).
        posted_ms: Simulated time it was posted.
    """

    intent: Intent
    signature: bytes
    digest: bytes
    posted_ms: int


@dataclass(frozen=True, slots=True)
class IntentFill:
    """An ``IntentFilled`` event of the board's book."""

    digest: bytes
    maker: str
    solver: str
    sell_token: str
    buy_token: str
    sell_amount: int
    buy_amount: int
    solver_reward: int
    block_number: int
    tx_hash: bytes


class IntentBoard:
    """Where makers publish signed intents for one ``IntentBook`` and solvers read them.

    Off-chain and public: anything posted is visible to every solver. The board learns which
    intents are gone from the book's ``IntentFilled`` and ``IntentCancelled`` logs (the market
    forwards each block's receipts), and ``open`` leaves out those and the expired ones.

    Args:
        book: The book's address (the EIP-712 verifying contract).
        chain_id: The chain's id (part of the EIP-712 domain).
        pricing: The book's pricing variant (solvers plan for it).
        on_unmet: What the book does with an unmet condition.
        share_bps: The solver's share of makers' surplus.
    """

    def __init__(
        self,
        book: str,
        chain_id: int,
        pricing: Pricing,
        on_unmet: OnUnmetCondition,
        share_bps: int,
    ) -> None:
        self.book = book
        self.chain_id = chain_id
        self.pricing = pricing
        self.on_unmet = on_unmet
        self.share_bps = share_bps
        self.posted: dict[bytes, PostedIntent] = {}
        self.fills: dict[bytes, IntentFill] = {}
        self._used: set[tuple[str, int]] = set()

    def post(self, intent: Intent, signature: bytes, *, now_ms: int = 0) -> bytes:
        """Publish a signed intent; return its digest."""
        digest = intent_digest(intent, chain_id=self.chain_id, verifying_contract=self.book)
        self.posted.setdefault(digest, PostedIntent(intent, signature, digest, now_ms))
        return digest

    def open(self, now: int) -> tuple[PostedIntent, ...]:
        """Intents still settleable at block timestamp ``now`` (seconds), in posting order."""
        return tuple(
            p
            for p in self.posted.values()
            if p.intent.deadline >= now and (p.intent.maker, p.intent.nonce) not in self._used
        )

    def on_block(self, receipts: Sequence[Receipt]) -> None:
        """Record the fills and cancellations of the book in one block's receipts."""
        for receipt in receipts:
            for log in receipt.logs:
                if log.address != self.book or log.event is None:
                    continue
                args = log.event.args
                if log.event.name == "IntentFilled":
                    digest = bytes(args["intentHash"])
                    posted = self.posted.get(digest)
                    if posted is not None:
                        self._used.add((posted.intent.maker, posted.intent.nonce))
                    self.fills[digest] = IntentFill(
                        digest,
                        str(args["maker"]),
                        str(args["solver"]),
                        str(args["sellToken"]),
                        str(args["buyToken"]),
                        int(args["sellAmount"]),
                        int(args["buyAmount"]),
                        int(args["solverReward"]),
                        log.block_number,
                        log.tx_hash,
                    )
                elif log.event.name == "IntentCancelled":
                    self._used.add((str(args["maker"]), int(args["nonce"])))
