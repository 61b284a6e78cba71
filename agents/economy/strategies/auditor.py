"""Random audits: an auditor checks a seeded fraction of closed agreements and penalises the
sellers it finds did not deliver (the sandbox's random-audit lever, Savitt 2026, section 8).

``Auditor`` is registered as a reputation issuer at set-up (by the admin, like the rating
agency). Each block it looks at the agreements that closed since it last looked, in id order,
and audits each accepted one with probability ``audit_prob`` (one draw from its own seeded
random stream per agreement, so the audited set depends on the seed and the agreements only).
An audit finds whether the seller delivered (its confirmation, which the audit re-checks as an
inspector checks the work); a seller that did not is penalised with ``penalty`` on-chain
``escrow.defaulted`` attestations about it (``attestDealing``, the agreement's pot at stake,
the auditor as counterparty, a uid per agreement and copy), on top of what the escrow recorded:
the multiplied penalty of the audit lever. Buyers reading raw counts see every copy; the
weighted record counts the auditor once per seller, as one more distinct counterparty. An
audit costs the auditor gas only when it finds something.

Under collusion detection (``[economy] collusion_z``) the auditor is also the escrow's
governor: it puts every account of a flagged pair on ``GovernedEscrow``'s freeze list
(``setFrozen``), so that detection off chain is enforced on chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, keccak

from agentbed.agents.agent import GWEI, Action, Agent, AgentView, TxIntent, check_fraction
from agentbed.agents.economy.observations import CLOSED_ACCEPTED
from agentbed.agents.economy.world import DEFAULTED

if TYPE_CHECKING:
    from agentbed.agents.economy.world import Deal, Economy

_ATTESTATION: Final = "(address,address,bytes32,int256,uint64,bytes32)"
_ATTEST_DEALING: Final = function_signature_to_4byte_selector(
    f"attestDealing({_ATTESTATION},address,uint256)"
)
_SET_FROZEN: Final = function_signature_to_4byte_selector("setFrozen(address,bool)")
AUDIT_GAS: Final = 300_000
FREEZE_GAS: Final = 100_000


class Auditor(Agent):
    """Audits a seeded fraction of closed agreements (see the module docstring).

    Args:
        audit_prob: Probability each closed accepted agreement is audited (0..1).
        penalty: ``escrow.defaulted`` attestations recorded per violation found (>= 1).
        tip: Priority fee of its attestations.
        **kwargs: Passed to ``Agent``.
    """

    wants_blocks = True

    def __init__(
        self, *args: Any, audit_prob: float = 0.2, penalty: int = 2, tip: int = GWEI, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        check_fraction("audit_prob", audit_prob, allow_zero=True)
        if penalty < 1:
            raise ValueError(f"penalty must be >= 1, got {penalty}")
        self.audit_prob = audit_prob
        self.penalty = penalty
        self.tip = tip
        self.audited: list[int] = []
        """Agreement ids audited, in order."""
        self.violations: list[int] = []
        """Audited agreement ids whose seller had not delivered."""
        self._handled: set[int] = set()
        self.frozen: list[str] = []
        """Accounts it put on the escrow's freeze list, in order."""
        self._governs = False

    def setup(self, market: Any) -> Sequence[Action]:
        economy: Economy = market
        economy.register_issuer(self.address)
        if economy.governor.rules.collusion_z > 0:
            economy.appoint_governor(self.address)
            self._governs = True
        return ()

    def observe(self, view: AgentView) -> Sequence[Action]:
        economy: Economy = view.market
        actions: list[Action] = list(self._freezes(economy)) if self._governs else []
        for deal_id in sorted(economy.deals):
            deal = economy.deals[deal_id]
            if deal.state not in CLOSED_ACCEPTED or deal_id in self._handled:
                continue
            self._handled.add(deal_id)
            if self.rng.random() >= self.audit_prob:
                continue
            self.audited.append(deal_id)
            if not deal.counterparty_confirmed:
                self.violations.append(deal_id)
                actions.extend(self._penalise(economy, deal))
        return actions

    def _freezes(self, economy: Economy) -> list[TxIntent]:
        """``setFrozen(account, true)`` for each colluder flagged since it last looked."""
        out = []
        for account in sorted(economy.governor.colluders - set(self.frozen)):
            self.frozen.append(account)
            out.append(
                TxIntent(
                    to=economy.escrow.address,
                    data=_SET_FROZEN + encode(("address", "bool"), (account, True)),
                    gas=FREEZE_GAS,
                    tip=self.tip,
                    label="freeze",
                    meta={"subject": account},
                )
            )
        return out

    def _penalise(self, economy: Economy, deal: Deal) -> list[TxIntent]:
        out = []
        for copy in range(self.penalty):
            uid = keccak(encode(("address", "uint256", "uint256"), (self.address, deal.id, copy)))
            attestation = (self.address, deal.counterparty, DEFAULTED, 1, 0, uid)
            data = _ATTEST_DEALING + encode(
                (_ATTESTATION, "address", "uint256"), (attestation, self.address, deal.pot)
            )
            out.append(
                TxIntent(
                    to=economy.reputation.address,
                    data=data,
                    gas=AUDIT_GAS,
                    tip=self.tip,
                    label="audit",
                    meta={"escrow": deal.id, "subject": deal.counterparty},
                )
            )
        return out
