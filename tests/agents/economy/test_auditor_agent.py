"""The random-audit lever's ``Auditor``: which agreements it audits and what it records (the
intents it returns, on a stand-in economy; its on-chain effect is in the governance run)."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import pytest
from eth_abi import decode
from eth_account import Account

from agentbed.agents.economy.strategies.auditor import Auditor
from agentbed.agents.economy.world import DEFAULTED, Deal


def _deal(deal_id: int, state: str, delivered: bool) -> Deal:
    return Deal(
        id=deal_id,
        proposer="0x" + "11" * 20,
        counterparty="0x" + "22" * 20,
        arbitrator="0x" + "33" * 20,
        price=10,
        proposer_bond=2,
        counterparty_bond=10,
        fee=1,
        accept_by=0,
        deliver_by=0,
        state=state,  # type: ignore[arg-type]  # a DealState name
        counterparty_confirmed=delivered,
        closed_block=1,
    )


def _view(deals: list[Deal]) -> Any:
    economy = SimpleNamespace(
        deals={d.id: d for d in deals}, reputation=SimpleNamespace(address="0x" + "44" * 20)
    )
    return SimpleNamespace(market=economy)


def _auditor(audit_prob: float, penalty: int = 2) -> Auditor:
    account = Account.from_key(b"\x01" * 32)
    return Auditor("auditor0", account, random.Random(7), audit_prob=audit_prob, penalty=penalty)


DEALS = [
    _deal(1, "TimedOut", delivered=False),
    _deal(2, "Released", delivered=True),
    _deal(3, "Expired", delivered=False),  # never accepted: nothing to audit
    _deal(4, "Ruled", delivered=False),
    _deal(5, "Accepted", delivered=False),  # still open
]


def test_audits_every_closed_accepted_deal_once_at_probability_one() -> None:
    auditor = _auditor(1.0, penalty=3)
    intents = auditor.observe(_view(DEALS))
    assert auditor.audited == [1, 2, 4]
    assert auditor.violations == [1, 4]
    assert len(intents) == 2 * 3
    assert not auditor.observe(_view(DEALS))  # each agreement is looked at once
    assert auditor.audited == [1, 2, 4]


def test_penalty_is_a_defaulted_dealing_about_the_seller() -> None:
    intent = _auditor(1.0, penalty=1).observe(_view(DEALS[:1]))[0]
    (attestation, counterparty, stake) = decode(
        ("(address,address,bytes32,int256,uint64,bytes32)", "address", "uint256"),
        intent.data[4:],
    )
    assert attestation[1] == DEALS[0].counterparty
    assert attestation[2] == DEFAULTED
    assert stake == DEALS[0].pot
    assert counterparty.lower() == attestation[0].lower()


def test_audits_nothing_at_probability_zero() -> None:
    auditor = _auditor(0.0)
    assert not auditor.observe(_view(DEALS))
    assert auditor.audited == []


def test_revert_when_penalty_below_one() -> None:
    with pytest.raises(ValueError, match="penalty"):
        _auditor(0.5, penalty=0)
