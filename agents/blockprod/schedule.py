"""The proposer schedule of the block-production experiments: one proposer with a role (a
time-bandit, a censor) holding a given share of the stake, and honest proposers splitting the
rest equally, drawn per slot by :class:`~agentbed.chain.auction.StakeWeightedSchedule`."""

from __future__ import annotations

from agentbed.chain.auction import Proposer, StakeWeightedSchedule

STAKE_UNITS = 10_000
"""Stake is split in these units (a share is rounded to one of them)."""


def one_against_honest(
    name: str, fee_recipient: str, share: float, proposers: int, seed: int
) -> StakeWeightedSchedule:
    """A schedule of ``proposers`` proposers: ``name`` (paid at ``fee_recipient``) with ``share``
    of the stake first, then ``honest0``, ``honest1``, ... with equal shares of the rest."""
    stake = round(share * STAKE_UNITS)
    honest = proposers - 1
    entries = [Proposer(name, fee_recipient)]
    entries += [Proposer(f"honest{i}", f"0x{0xA0 + i:040x}") for i in range(honest)]
    stakes = [stake] + [(STAKE_UNITS - stake) // honest] * honest
    return StakeWeightedSchedule(entries, stakes, seed)
