"""The commitment economy of a simulation: currency, staking, reputation and escrow, wired up.

``Economy.deploy`` puts ``AgentCurrency`` (or ``CommunityCurrency``), ``Staking``,
``Reputation`` and ``Escrow`` on a chain with the roles the escrow needs (slasher in staking,
registered issuer in reputation), the same wiring as the chain showcase. The economy is the
simulation's ``market``: it builds the agents' transaction intents, answers their reads through
their view's ``reader`` (reputation scores, stakes; each asked once per head block, however many
agents ask), and keeps every agreement's state current from the Escrow events of each block
(``on_block``), so agents do not each scan the logs.

It also keeps the off-chain *directory* of who sells or arbitrates (not a claim about quality:
buyers judge that from reputation and the signed ``credentials`` board) and the ``governor``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final, Literal

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, keccak

from agentbed.agents.agent import TxIntent
from agentbed.agents.economy.consent import Terms
from agentbed.agents.economy.credentials import CredentialBoard, HeadVerdicts
from agentbed.agents.economy.governance import Governance, Governor
from agentbed.agents.economy.wiring import POLICY_ID, check_terms, deploy_escrow, wire
from agentbed.agents.erc20 import approve_intent

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from agentbed.agents.agent import ChainReader
    from agentbed.chain.node import Chain
    from agentbed.chain.types import Block, Receipt

TOKEN: Final = 10**18
ZERO_ADDRESS: Final = "0x" + "00" * 20

Consenter = Callable[[str, Terms], "tuple[bytes, bytes] | None"]
"""An arbitrator's answer to ``(proposer, terms)``: ``(salt, signature)`` or None (refused)."""

TimeoutPolicy = Literal["refund", "slash"]
"""What an escrow timeout does to the bonds: refund both, or slash both (``IEscrow``)."""

DealState = Literal[
    "Proposed",
    "Accepted",
    "Disputed",
    "Released",
    "Ruled",
    "Expired",
    "TimedOut",
    "ArbitratorTimedOut",
]
OPEN_STATES: Final = frozenset({"Proposed", "Accepted", "Disputed"})

COMPLETED: Final = keccak(text="escrow.completed")
DEFAULTED: Final = keccak(text="escrow.defaulted")
DISPUTE_WON: Final = keccak(text="escrow.dispute-won")
DISPUTE_LOST: Final = keccak(text="escrow.dispute-lost")
ARBITRATOR_NO_SHOW: Final = keccak(text="escrow.arbitrator-no-show")

# Gas limits per call; generous, because a call that records attestations reverts with
# EscrowAttestationOutOfGas when starved (the unused part costs nothing).
PROPOSE_GAS: Final = 360_000
ACCEPT_GAS: Final = 120_000
CONFIRM_GAS: Final = 600_000
DISPUTE_GAS: Final = 120_000
RULE_GAS: Final = 600_000
TIMEOUT_GAS: Final = 600_000
STAKE_GAS: Final = 150_000
TRANSFER_GAS: Final = 80_000


def _selector(signature: str) -> bytes:
    return function_signature_to_4byte_selector(signature)


_TERMS_TYPES: Final = ("address", "address", *["uint256"] * 4, "uint64", "uint64")
_PROPOSE = _selector(f"propose({','.join(_TERMS_TYPES)})")
_TRANSFER = _selector("transfer(address,uint256)")
_STAKE = _selector("stake(uint256)")
_STAKE_OF = _selector("stakeOf(address)")
_SCORE = _selector("score(address,bytes32)")
_WEIGHTED = _selector("weightedScore(address,bytes32,uint256)")
_PROPOSE_CONSENT = _selector(
    "proposeWithConsent((address,address,uint256,uint256,uint256,uint256,uint64,uint64),bytes32,bytes)"
)
_BALANCE_OF = _selector("balanceOf(address)")


@dataclass(frozen=True, slots=True)
class Deal:
    """One escrow agreement as the economy has seen it through the Escrow events.

    Attributes:
        id: Agreement id.
        proposer: The buyer, who paid price, bond and fee.
        counterparty: The seller, who accepts, delivers and is paid.
        arbitrator: Who rules on a dispute.
        price: Paid to the seller on release.
        proposer_bond: The buyer's bond.
        counterparty_bond: The seller's bond, posted on acceptance.
        fee: The arbitrator's fee.
        accept_by: Last second to accept.
        deliver_by: The promised delivery deadline; confirming or disputing stays allowed
            until ``deliver_by`` plus the escrow's grace period.
        state: Where the agreement is (``IEscrow.State`` by name).
        proposer_confirmed: The buyer confirmed delivery.
        counterparty_confirmed: The seller confirmed, i.e. delivered (the protocol's delivery).
        rule_by: Last second the arbitrator may rule (0 until disputed).
        to_proposer: What a ruling gave the buyer (0 otherwise).
        slashed: Bonds slashed at timeout, or stake slashed from a no-show arbitrator.
        proposed_block: Block of the proposal.
        closed_block: Block of the terminal transition, or None while open.
    """

    id: int
    proposer: str
    counterparty: str
    arbitrator: str
    price: int
    proposer_bond: int
    counterparty_bond: int
    fee: int
    accept_by: int
    deliver_by: int
    state: DealState = "Proposed"
    proposer_confirmed: bool = False
    counterparty_confirmed: bool = False
    rule_by: int = 0
    to_proposer: int = 0
    slashed: int = 0
    proposed_block: int = 0
    closed_block: int | None = None

    @property
    def pot(self) -> int:
        """What a ruling splits: price plus both bonds."""
        return self.price + self.proposer_bond + self.counterparty_bond

    @property
    def is_open(self) -> bool:
        """Whether the agreement is not terminal yet."""
        return self.state in OPEN_STATES


@dataclass(frozen=True, slots=True)
class SellerRecord:
    """A subject's verifiable track record: valid attestation counts by schema."""

    completed: int
    defaulted: int
    dispute_won: int
    dispute_lost: int

    @property
    def bad(self) -> int:
        """Outcomes that count against a seller."""
        return self.defaulted + self.dispute_lost

    def trust(self, credentials: int = 0) -> float:
        """Posterior mean of "delivers" under a uniform prior: (good + 1) / (all + 2), each of
        the ``credentials`` of delivery the buyer accepted counting as one more good outcome."""
        good = self.completed + self.dispute_won + credentials
        return (good + 1) / (good + self.bad + 2)


class Economy:
    """Contracts, directory and live agreement states of one economy (the ``Simulation``'s
    ``market``; ``Economy.deploy`` builds it)."""

    def __init__(
        self,
        chain: Chain,
        *,
        currency: Any,
        staking: Any,
        reputation: Any,
        escrow: Any,
        admin: LocalAccount,
        treasury: str,
        timeout_policy: TimeoutPolicy,
        min_arbitrator_stake: int,
        ruling_window: int,
        grace_period: int = 0,
        arbitrator_consent: bool = False,
        governor: Governor | None = None,
    ) -> None:
        self.chain = chain
        self.currency = currency
        self.staking = staking
        self.reputation = reputation
        self.escrow = escrow
        self.admin = admin
        self.treasury = treasury
        self.timeout_policy: TimeoutPolicy = timeout_policy
        self.min_arbitrator_stake = min_arbitrator_stake
        self.ruling_window = ruling_window
        self.grace_period = grace_period
        """Seconds after ``deliver_by`` that confirm and dispute stay open and timeout does not."""
        self.sellers: list[str] = []
        self.arbitrators: list[str] = []
        self.arbitrator_consent = arbitrator_consent
        """Whether the escrow is ``ConsentEscrow`` (proposals carry the arbitrator's consent)."""
        self.consents: dict[str, Consenter] = {}
        """Each arbitrator's off-chain answer to a request for consent (``list_arbitrator``)."""
        self.deals: dict[int, Deal] = {}
        self.side_payments: Counter[tuple[str, str]] = Counter()
        """Currency sent directly from one agent to another: ``(payer, payee) -> amount``."""
        self.slashed_bonds = 0
        self.slashed_stake = 0
        self.credentials = CredentialBoard()
        """Off-chain credentials each subject shows (``ReputationIssuer`` publishes here)."""
        self.verdicts = HeadVerdicts(reputation.address)
        """Credential verdicts at the head, shared by every buyer's ``CredentialJudge``."""
        self.governor = governor or Governor()
        """The governance levers (``agentbed.agents.economy.governance``)."""
        self._reads_head: bytes | None = None
        self._reads: dict[tuple[str, bytes], bytes] = {}

    @property
    def block_interval_s(self) -> int:
        """Seconds between blocks (the scenario's configuration, for deadline margins)."""
        return max(1, self.chain.clock.block_interval_ms // 1000)

    @property
    def slash_on_timeout(self) -> bool:
        """Whether a delivery timeout slashes both bonds."""
        return self.timeout_policy == "slash"

    @classmethod
    def deploy(
        cls,
        chain: Chain,
        *,
        timeout_policy: TimeoutPolicy = "slash",
        min_arbitrator_stake: int = 100 * TOKEN,
        ruling_window: int = 36,
        grace_period: int = 0,
        arbitrator_slash: int = 50 * TOKEN,
        unbonding_period: int = 86_400,
        community: bool = False,
        admin: LocalAccount | None = None,
        treasury: str | None = None,
        arbitrator_consent: bool = True,
        governance: Governance | None = None,
    ) -> Economy:
        """Deploy and wire the four contracts; the admin keeps the minter role.

        Args:
            chain: The chain (automine on or off; blocks are mined as needed).
            timeout_policy: "slash" (SlashBoth) or "refund" (RefundBoth) on delivery timeouts.
            min_arbitrator_stake: Bonded stake an arbitrator needs to be chosen (0: none).
            ruling_window: Seconds an arbitrator has to rule after a dispute.
            grace_period: Seconds after an agreement's ``deliverBy`` during which confirm and
                dispute are still accepted and timeout is not (0: the plain deadline). The
                deadline-grace variant, against congestion that delays confirmations.
            arbitrator_slash: Stake taken from an arbitrator who misses the window.
            unbonding_period: Staking's unbonding period in seconds.
            community: Deploy ``CommunityCurrency`` (transferable only through the approved
                contracts) instead of the freely transferable ``AgentCurrency``.
            admin: Deployer and admin (default: the chain's first account).
            treasury: Receiver of slashed bonds and stake (default: the chain's second account).
            arbitrator_consent: Deploy ``ConsentEscrow`` (an arbitrator is named only with its
                signed consent to the terms) instead of the plain ``Escrow``, in which anyone
                may name any staked arbitrator (issue 15's griefing flaw, kept as a variant).
            governance: The levers; with any on, ``GovernedEscrow`` (``wiring.deploy_escrow``).
        """
        check_terms(timeout_policy, min_arbitrator_stake, grace_period)
        owner = admin or chain.accounts[0]
        sink = treasury or chain.accounts[1].address
        name = "CommunityCurrency" if community else "AgentCurrency"
        currency = chain.deploy(name, "Agent Credit", "AGC", owner.address, 0, sender=owner)
        staking = chain.deploy(
            "Staking", currency.address, unbonding_period, sink, owner.address, sender=owner
        )
        reputation = chain.deploy("Reputation", owner.address, sender=owner)
        shared: tuple[Any, ...] = (currency.address, staking.address, reputation.address)
        shared += (min_arbitrator_stake, ruling_window, POLICY_ID[timeout_policy])
        shared += (arbitrator_slash, sink, grace_period)
        levers = governance.levers(owner.address) if governance and governance.on_chain else None
        escrow = deploy_escrow(chain, owner, shared, consent=arbitrator_consent, levers=levers)
        wire(chain, owner, currency, staking, reputation, escrow, community=community)
        return cls(
            chain,
            currency=currency,
            staking=staking,
            reputation=reputation,
            escrow=escrow,
            admin=owner,
            treasury=sink,
            timeout_policy=timeout_policy,
            min_arbitrator_stake=min_arbitrator_stake,
            ruling_window=ruling_window,
            grace_period=grace_period,
            arbitrator_consent=arbitrator_consent,
            governor=Governor(governance, max(1, chain.clock.block_interval_ms // 1000)),
        )

    # -- set-up (before the run) -----------------------------------------------------------------

    def fund(self, amounts: Mapping[str, int]) -> None:
        """Mint currency to agents before the run: ``{address: amount}``; mined at once."""
        for holder, amount in amounts.items():
            if amount > 0:
                self.chain.transact(
                    self.admin, self.currency.functions.mint(holder, amount), gas=120_000
                )
        if not self.chain.automine:
            self.chain.mine()

    def register_issuer(self, address: str) -> None:
        """Have the admin register ``address`` as a reputation issuer; mined at once.

        For a rating agency's ``setup``: set-up runs before the run, and registration is the
        admin's decision, not a transaction the agency can send itself. Registering twice is a
        no-op (the contract would revert).
        """
        if self.reputation.functions.isIssuer(address).call():
            return
        self._admin_call(self.reputation.functions.registerIssuer(address))
        self.credentials.list_issuer(address)

    def appoint_governor(self, address: str) -> None:
        """Hand ``GovernedEscrow``'s freeze list to ``address`` (set-up, as ``register_issuer``)."""
        self._admin_call(self.escrow.functions.setGovernor(address))

    def _admin_call(self, call: Any) -> None:
        """Send the admin's ``call``, mined at once without automine."""
        self.chain.transact(self.admin, call, gas=100_000)
        if not self.chain.automine:
            # Mid set-up this block may carry agents' set-up txs too: the economy must see them.
            (block,) = self.chain.mine()
            self.on_block(block, self.chain.receipts(block.number))

    def list_seller(self, address: str) -> None:
        """Add a seller to the directory (agents call this from ``setup``)."""
        if address not in self.sellers:
            self.sellers.append(address)

    def list_arbitrator(self, address: str, consent: Consenter | None = None) -> None:
        """Add an arbitrator to the directory (agents call this from ``setup``).

        Args:
            address: The arbitrator.
            consent: Its answer to a request for consent (``(proposer, terms)`` to a salt and
                signature, or None to refuse); without one it is never named under consent.
        """
        if address not in self.arbitrators:
            self.arbitrators.append(address)
        if consent is not None:
            self.consents[address] = consent

    # -- intents -----------------------------------------------------------------------------------

    def approvals(self, *, staking: bool = False) -> tuple[TxIntent, ...]:
        """Unlimited currency approvals of the escrow (and of staking, for arbitrators)."""
        spenders = [self.escrow.address] + ([self.staking.address] if staking else [])
        return tuple(approve_intent(self.currency.address, spender) for spender in spenders)

    def stake(self, amount: int) -> TxIntent:
        """Bond ``amount`` in staking (needs the staking approval)."""
        return TxIntent(
            to=self.staking.address,
            data=_STAKE + encode(("uint256",), (amount,)),
            gas=STAKE_GAS,
            label="stake",
        )

    def propose(self, proposer: str, terms: Terms, *, ask: bool = True) -> TxIntent | None:
        """A proposal of ``terms``; None if the arbitrator, asked under either escrow (only
        ``ConsentEscrow`` checks its signed answer), refuses. ``ask=False`` names it unasked:
        the plain ``Escrow`` takes that (issue 15's griefing); ``ConsentEscrow`` reverts.
        None also when the governor has frozen either party."""
        if not self.governor.admits(proposer, terms.counterparty):
            return None
        consent = self.consents.get(terms.arbitrator) if ask else None
        answer = consent(proposer, terms) if consent is not None else None
        if answer is None and (consent is not None or (ask and self.arbitrator_consent)):
            return None
        if answer is not None and self.arbitrator_consent:
            salt, signature = answer
            data = _PROPOSE_CONSENT + encode(
                (f"({','.join(_TERMS_TYPES)})", "bytes32", "bytes"),
                (terms.as_tuple(), salt, signature),
            )
        else:
            data = _PROPOSE + encode(_TERMS_TYPES, terms.as_tuple())
        meta = {"seller": terms.counterparty, "arbitrator": terms.arbitrator}
        return TxIntent(
            to=self.escrow.address, data=data, gas=PROPOSE_GAS, label="propose", meta=meta
        )

    def _escrow_call(self, fn: str, deal: int, gas: int, label: str, *extra: int) -> TxIntent:
        types = ["uint256"] * (1 + len(extra))
        signature = f"{fn}({','.join(types)})"
        return TxIntent(
            to=self.escrow.address,
            data=_selector(signature) + encode(types, (deal, *extra)),
            gas=gas,
            label=label,
            meta={"escrow": deal},
        )

    def accept(self, deal: int) -> TxIntent:
        """The seller accepts and posts its bond."""
        return self._escrow_call("accept", deal, ACCEPT_GAS, "accept")

    def deliver(self, deal: int) -> TxIntent:
        """The seller's confirmation, which is how the protocol records delivery."""
        return self._escrow_call("confirm", deal, CONFIRM_GAS, "deliver")

    def confirm(self, deal: int) -> TxIntent:
        """The buyer's confirmation of delivery (releases the funds)."""
        return self._escrow_call("confirm", deal, CONFIRM_GAS, "confirm")

    def dispute(self, deal: int) -> TxIntent:
        """A party disputes; the arbitrator then has the ruling window."""
        return self._escrow_call("dispute", deal, DISPUTE_GAS, "dispute")

    def rule(self, deal: int, proposer_share: int) -> TxIntent:
        """The arbitrator's ruling: ``proposer_share`` of the pot to the buyer."""
        return self._escrow_call("rule", deal, RULE_GAS, "rule", proposer_share)

    def timeout(self, deal: int) -> TxIntent:
        """Settle an accepted agreement past its delivery deadline (anyone)."""
        return self._escrow_call("timeout", deal, TIMEOUT_GAS, "timeout")

    def arbitrator_timeout(self, deal: int) -> TxIntent:
        """Refund a dispute the arbitrator left unruled and slash it (anyone)."""
        return self._escrow_call("arbitratorTimeout", deal, TIMEOUT_GAS, "timeout")

    def expire(self, deal: int) -> TxIntent:
        """Refund a proposal nobody accepted in time (anyone)."""
        return self._escrow_call("expire", deal, TIMEOUT_GAS, "expire")

    def side_payment(self, to: str, amount: int, deal: int) -> TxIntent:
        """A direct currency transfer (a bribe) to ``to`` about agreement ``deal``."""
        return TxIntent(
            to=self.currency.address,
            data=_TRANSFER + encode(("address", "uint256"), (to, amount)),
            gas=TRANSFER_GAS,
            label="bribe",
            meta={"escrow": deal},
        )

    # -- reading (agents pass their view's reader) ---------------------------------------------

    def _read(self, reader: ChainReader, to: str, data: bytes, returns: tuple[str, ...]) -> Any:
        """``reader.call(to, data)`` decoded as ``returns``, made once per head block: every
        buyer choosing a counterparty in a block asks the same questions of the same state."""
        head = reader.head.hash
        if head != self._reads_head:
            self._reads_head, self._reads = head, {}
        raw = self._reads.get((to, data))
        if raw is None:
            raw = self._reads[(to, data)] = reader.call(to, data)
        return decode(returns, raw)

    def _uint_of(self, reader: ChainReader, contract: str, selector: bytes, account: str) -> int:
        """A ``uint256`` view of ``account`` (``balanceOf``, ``stakeOf``)."""
        data = selector + encode(("address",), (account,))
        return int(self._read(reader, contract, data, ("uint256",))[0])

    def _count(self, reader: ChainReader, subject: str, schema: bytes) -> int:
        """Valid attestations of ``schema`` about ``subject`` (``Reputation.score``'s count)."""
        data = _SCORE + encode(("address", "bytes32"), (subject, schema))
        return int(self._read(reader, self.reputation.address, data, ("int256", "uint256"))[1])

    def _counterparties(
        self, reader: ChainReader, subject: str, schema: bytes, min_stake: int
    ) -> int:
        """Distinct counterparties of ``subject``'s valid ``schema`` records of dealings with at
        least ``min_stake`` at stake (``Reputation.weightedScore``)."""
        data = _WEIGHTED + encode(("address", "bytes32", "uint256"), (subject, schema, min_stake))
        return int(self._read(reader, self.reputation.address, data, ("uint256", "uint256"))[1])

    def record(
        self, reader: ChainReader, subject: str, *, min_stake: int | None = None
    ) -> SellerRecord:
        """``subject``'s track record, read on-chain from the reputation registry.

        Args:
            reader: The agent's view of the chain.
            subject: Who the records are about.
            min_stake: None: the raw counts of valid attestations (farmable with deals worth
                nothing between two accounts of one owner). Otherwise the weighted record: per
                outcome, the distinct counterparties of dealings with at least ``min_stake``
                (at least 1) at stake.
        """
        schemas = (COMPLETED, DEFAULTED, DISPUTE_WON, DISPUTE_LOST)
        if min_stake is None:
            return SellerRecord(*(self._count(reader, subject, schema) for schema in schemas))
        return SellerRecord(
            *(self._counterparties(reader, subject, schema, min_stake) for schema in schemas)
        )

    def no_shows(self, reader: ChainReader, arbitrator: str) -> int:
        """Valid ``escrow.arbitrator-no-show`` attestations about ``arbitrator``."""
        return self._count(reader, arbitrator, ARBITRATOR_NO_SHOW)

    def stake_of(self, reader: ChainReader, account: str) -> int:
        """``account``'s bonded stake."""
        return self._uint_of(reader, self.staking.address, _STAKE_OF, account)

    def balance_of(self, reader: ChainReader, account: str) -> int:
        """``account``'s currency balance."""
        return self._uint_of(reader, self.currency.address, _BALANCE_OF, account)

    def eligible(self, reader: ChainReader, arbitrator: str) -> bool:
        """Whether ``arbitrator`` has the bonded stake the escrow requires."""
        return self.stake_of(reader, arbitrator) >= self.min_arbitrator_stake

    def escrows_of(self, address: str) -> tuple[Deal, ...]:
        """Every agreement ``address`` is a party to or arbitrates, by id."""
        return tuple(
            d for d in self.deals.values() if address in (d.proposer, d.counterparty, d.arbitrator)
        )

    def open_escrows_of(self, address: str) -> tuple[Deal, ...]:
        """The non-terminal agreements of ``address``."""
        return tuple(d for d in self.escrows_of(address) if d.is_open)

    def outcomes(self, sellers: Iterable[str] | None = None) -> Counter[str]:
        """Terminal states counted over the deals of ``sellers`` (default: all deals)."""
        wanted = None if sellers is None else set(sellers)
        return Counter(
            d.state
            for d in self.deals.values()
            if not d.is_open and (wanted is None or d.counterparty in wanted)
        )

    # -- updating ----------------------------------------------------------------------------------

    def on_block(self, block: Block, receipts: Sequence[Receipt]) -> None:
        """Apply the Escrow events to ``deals`` and direct transfers to ``side_payments``."""
        escrow, currency = self.escrow.address, self.currency.address
        internal = {escrow, self.staking.address, ZERO_ADDRESS}  # not a payment between agents
        for receipt in receipts:
            for log in receipt.logs:
                event = log.event
                if event is None:
                    continue
                if log.address == escrow:
                    self._apply(event.name, event.args, block.number)
                elif log.address == currency and event.name == "Transfer":
                    payer, payee = str(event.args["from"]), str(event.args["to"])
                    if not {payer, payee} & internal:
                        self.side_payments[(payer, payee)] += int(event.args["value"])
        self.governor.update(self.deals.values(), block.number)

    def _apply(self, name: str, args: Mapping[str, Any], number: int) -> None:
        if name == "EscrowProposed":
            deal_id = int(args["id"])
            terms = self.escrow.functions.agreement(deal_id).call()
            self.deals[deal_id] = Deal(
                id=deal_id,
                proposer=str(args["proposer"]),
                counterparty=str(args["counterparty"]),
                arbitrator=str(args["arbitrator"]),
                price=int(terms[9]),
                proposer_bond=int(terms[10]),
                counterparty_bond=int(terms[11]),
                fee=int(terms[12]),
                accept_by=int(args["acceptBy"]),
                deliver_by=int(args["deliverBy"]),
                proposed_block=number,
            )
            return
        deal = self.deals.get(int(args.get("id", 0)))
        if deal is None:
            return  # proposed before the economy started watching, or no agreement's event
        closed: dict[str, Any] = {"closed_block": number}
        if name == "EscrowAccepted":
            deal = replace(deal, state="Accepted")
        elif name == "EscrowConfirmed":
            party = str(args["party"])
            if party == deal.proposer:
                deal = replace(deal, proposer_confirmed=True)
            else:
                deal = replace(deal, counterparty_confirmed=True)
        elif name == "EscrowReleased":
            deal = replace(deal, state="Released", **closed)
        elif name == "EscrowDisputed":
            deal = replace(deal, state="Disputed", rule_by=int(args["ruleBy"]))
        elif name == "EscrowRuled":
            deal = replace(deal, state="Ruled", to_proposer=int(args["toProposer"]), **closed)
        elif name == "EscrowExpired":
            deal = replace(deal, state="Expired", **closed)
        elif name == "EscrowTimedOut":
            self.slashed_bonds += int(args["slashed"])
            deal = replace(deal, state="TimedOut", slashed=int(args["slashed"]), **closed)
        elif name == "EscrowArbitratorTimedOut":
            self.slashed_stake += int(args["slashed"])
            deal = replace(deal, state="ArbitratorTimedOut", slashed=int(args["slashed"]), **closed)
        self.deals[deal.id] = deal
