"""Issue 15, flaw 4 as an agent: a maker who makes intent batches revert.

A ``BatchGriefer`` posts intents like any ``IntentMaker``; it also watches the public mempool,
and when a pending ``settle`` carries one of its own intents next to other makers' intents, it
front-runs the settlement (a higher tip) with a transaction that breaks its own intent:

* ``"cancel"``: ``IntentBook.cancel(nonce)``, so the intent's nonce is used when the batch runs;
* ``"revoke"``: ``approve(book, 0)`` on the intent's sell token, so the maker's transfer fails
  (the next scheduled wake approves the book again, ready for the next round).

A book that reverts the batch on a used nonce or a failed transfer (``on_unmet = "revert"``)
loses the whole batch, and the solver its gas; a book that skips the broken intent (``"skip"``)
settles the rest. The griefer pays the gas of its front-runs, nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from agentbed.agents.agent import GWEI, Action, AgentView, TxIntent
from agentbed.agents.erc20 import APPROVE_GAS, approve_calldata, approve_intent
from agentbed.agents.market.intents import SETTLE_SELECTOR, decode_settle
from agentbed.agents.market.strategies.intents import IntentMaker, board_of

GriefMethod = Literal["cancel", "revoke"]
"""How the griefer breaks its own intent in a pending batch (see the module docstring)."""
GRIEF_METHODS: Final[tuple[GriefMethod, ...]] = ("cancel", "revoke")
CANCEL_GAS: Final = 60_000
_CANCEL = function_signature_to_4byte_selector("cancel(uint256)")


class BatchGriefer(IntentMaker):
    """An intent maker that front-runs settlements of its own intents to break them.

    Args:
        method: ``"cancel"`` or ``"revoke"`` (module docstring).
        outbid: Added to the pending settlement's tip, so the front-run is ordered first under
            priority ordering.
        min_others: Grief only a batch holding at least this many other makers' intents.
        **kwargs: Passed to ``IntentMaker``.
    """

    wants_pending = True

    def __init__(
        self,
        *args: Any,
        method: GriefMethod = "cancel",
        outbid: int = GWEI,
        min_others: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if method not in GRIEF_METHODS:
            raise ValueError(f"method must be one of {GRIEF_METHODS}, got {method!r}")
        if outbid < 0 or min_others < 0:
            raise ValueError("outbid and min_others must be >= 0")
        self.method: GriefMethod = method
        self.outbid = outbid
        self.min_others = min_others
        self.griefed: list[bytes] = []
        """Hashes of the settlements it front-ran, in order."""
        self._broken: set[int] = set()  # nonces already cancelled or revoked for
        self._revoked: set[str] = set()  # sell tokens whose approval is to be restored

    def observe(self, view: AgentView) -> Sequence[Action]:
        if view.reason == "pending":
            return self._front_run(view)
        restore = [approve_intent(token, board_of(view.market).book) for token in self._revoked]
        self._revoked.clear()
        return (*restore, *super().observe(view))

    def _front_run(self, view: AgentView) -> Sequence[Action]:
        pending = view.trigger
        book = board_of(view.market).book
        if pending is None or pending.tx.to != book or pending.tx.data[:4] != SETTLE_SELECTOR:
            return ()
        intents, _, _ = decode_settle(pending.tx.data)
        own = [i for i in intents if i.maker == self.address and i.nonce not in self._broken]
        others = sum(i.maker != self.address for i in intents)
        if not own or others < self.min_others:
            return ()
        target = own[0]
        self._broken.add(target.nonce)
        self.griefed.append(pending.hash)
        tip = pending.tx.max_priority_fee_per_gas + self.outbid
        if self.method == "cancel":
            data = _CANCEL + encode(("uint256",), (target.nonce,))
            return (TxIntent(to=book, data=data, gas=CANCEL_GAS, tip=tip, label="grief"),)
        self._revoked.add(target.sell_token)
        data = approve_calldata(book, 0)
        return (TxIntent(to=target.sell_token, data=data, gas=APPROVE_GAS, tip=tip, label="grief"),)
