"""What a reorg means to a client's filters and subscriptions: logs marked ``removed``.

geth reports a reorg to a log filter or a ``logs`` subscription as the orphaned blocks' matching
logs again, with ``removed: true``, followed by the new branch's logs; a block filter then reports
the new branch's block hashes. These helpers turn a :class:`~agentbed.chain.blocktree.Reorg`
record into those answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from agentbed.chain.history import matching_logs
from agentbed.chain.provider import encoding as enc
from agentbed.chain.provider import params as prm

if TYPE_CHECKING:
    from agentbed.chain.blocktree import Reorg


def removed_logs(reorg: Reorg, criteria: Mapping[str, Any], up_to: int) -> list[dict[str, Any]]:
    """The reorg's orphaned logs that match ``criteria`` (address and topics) in blocks up to
    ``up_to`` (those a client was already told of), as log objects with ``removed: true``."""
    logs = [log for log in reorg.removed_logs if log.block_number <= up_to]
    found = matching_logs(
        logs,
        address=prm.address_filter(criteria.get("address")),
        topics=prm.topic_filter(criteria.get("topics")),
    )
    return [enc.log_json(log, removed=True) for log in found]


def unseen(reorgs: Sequence[Reorg], seen: int) -> Sequence[Reorg]:
    """The reorgs after the first ``seen`` (all of them if a revert made the log shorter)."""
    return reorgs[seen:] if seen <= len(reorgs) else ()
