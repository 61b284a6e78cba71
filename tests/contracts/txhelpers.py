"""Transaction helpers shared by contract test files (imported, not collected)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_account.signers.local import LocalAccount

from chain.node import Chain
from chain.types import Receipt

Sender = Callable[[Chain, LocalAccount, Any], Receipt]


def tx_helpers(gas: int) -> tuple[Sender, Sender, Callable[..., Receipt]]:
    """``send``, ``ok`` and ``reverts`` that submit with a fixed ``gas`` limit.

    A fixed limit skips estimation, so reverting calls are mined and their reason decoded.
    """

    def send(chain: Chain, sender: LocalAccount, call: Any) -> Receipt:
        """Sign, submit and mine ``call`` from ``sender`` with a fixed gas limit."""
        return chain.receipt(chain.transact(sender, call, gas=gas))

    def ok(chain: Chain, sender: LocalAccount, call: Any) -> Receipt:
        rec = send(chain, sender, call)
        assert rec.status == 1, rec.revert_reason
        return rec

    def reverts(chain: Chain, sender: LocalAccount, call: Any, reason: str) -> Receipt:
        rec = send(chain, sender, call)
        assert rec.status == 0
        assert rec.revert_reason == reason
        return rec

    return send, ok, reverts


def events(rec: Receipt, contract: Any) -> list[tuple[str, dict[str, Any]]]:
    """``(name, args)`` of the decoded events ``contract`` emitted in ``rec``."""
    return [
        (log.event.name, log.event.args)
        for log in rec.logs
        if log.event is not None and log.address == contract.address
    ]
