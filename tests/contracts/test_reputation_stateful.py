"""Stateful property of contracts/Reputation.sol: after every random step, ``score`` and
``isValid`` equal a Python model of the valid attestations.

Steps: signed and direct attestations (fresh or reused uids, expiring or not, by registered or
unregistered issuers), revocations by the issuer or by others, issuer registration and removal,
and time jumps past expiries. Every step that the model says must revert is checked for the
exact custom error. Each example runs on a chain snapshot that is reverted afterwards.

Reads go through ``ReputationProbe`` inside a transaction: an ``eth_call`` here runs in
py-evm's costless state, whose ``block.timestamp`` is the wall clock, while a mined probe reads
at a block timestamp the model knows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from eth_utils import keccak
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from txkit import assert_ok, assert_reverted, tx_helpers

from agentbed.agents.economy.reputation import Attestation, schema_id, sign_attestation
from agentbed.chain.node import Chain

ROOT = Path(__file__).resolve().parents[2]
GAS = 1_000_000
PROBE_GAS = 20_000_000
SCHEMAS = (schema_id("escrow.completed"), schema_id("escrow.defaulted"))
send = tx_helpers(GAS).send

PROBE_SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface IReputationReader {
    function score(address subject, bytes32 schema) external view returns (int256, uint256);
    function isValid(bytes32 uid) external view returns (bool);
    function isRevoked(bytes32 uid) external view returns (bool);
    function isIssuer(address issuer) external view returns (bool);
}

/// @notice Reads Reputation views inside a transaction, so they see the mined block's timestamp.
contract ReputationProbe {
    event Scored(address subject, bytes32 schema, int256 total, uint256 count, uint256 timestamp);
    event Validity(bytes32 uid, bool valid, bool revoked);
    event Registry(address issuer, bool registered);

    function read(
        IReputationReader rep,
        address[] calldata subjects,
        bytes32[] calldata schemas,
        bytes32[] calldata uids,
        address[] calldata issuers
    ) external {
        for (uint256 i = 0; i < subjects.length; ++i) {
            for (uint256 j = 0; j < schemas.length; ++j) {
                (int256 total, uint256 count) = rep.score(subjects[i], schemas[j]);
                emit Scored(subjects[i], schemas[j], total, count, block.timestamp);
            }
        }
        for (uint256 k = 0; k < uids.length; ++k) {
            emit Validity(uids[k], rep.isValid(uids[k]), rep.isRevoked(uids[k]));
        }
        for (uint256 m = 0; m < issuers.length; ++m) {
            emit Registry(issuers[m], rep.isIssuer(issuers[m]));
        }
    }
}
"""


@dataclass(frozen=True, slots=True)
class Record:
    """The model's copy of one recorded attestation."""

    issuer: str
    subject: str
    schema: bytes
    value: int
    expiry: int
    revoked: bool = False


def test_score_matches_the_model_of_valid_attestations(chain: Chain, tmp_path: Path) -> None:
    from agentbed.chain.compiler import compile_files

    probe_path = tmp_path / "ReputationProbe.sol"
    probe_path.write_text(PROBE_SOURCE)
    artifacts = compile_files([ROOT / "contracts" / "Reputation.sol", probe_path], root=ROOT)
    admin, *cast = chain.accounts[:6]
    issuers, subjects = cast[:3], cast[2:5]  # cast[2] is both: issuers can be subjects
    people = [admin, *cast]
    rep = chain.deploy(artifacts.get("Reputation"), admin.address, sender=admin)
    probe = chain.deploy(artifacts.get("ReputationProbe"), sender=admin)

    attest_args = {
        "who": st.integers(0, len(issuers) - 1),
        "about": st.integers(0, len(subjects) - 1),
        "schema": st.sampled_from(SCHEMAS),
        "value": st.integers(-1_000, 1_000),
        # None: never expires; around 0: expires about when it lands; else later
        "expiry_in": st.one_of(st.none(), st.integers(-3, 3), st.integers(4, 200)),
        "reuse": st.sampled_from([False, False, False, True]),
        "gap": st.integers(1, 20),
    }

    class ReputationMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot = chain.snapshot()
            self.registered: set[str] = set()
            self.records: dict[bytes, Record] = {}
            self.uid_counter = 0

        def teardown(self) -> None:
            chain.revert(self.snapshot)

        # -- helpers ------------------------------------------------------------------------

        def next_time(self, gap: int) -> int:
            return chain.head.timestamp + gap

        def check(self, rec: Any, expected_error: str | None) -> None:
            if expected_error is None:
                assert_ok(rec)
            else:
                assert_reverted(rec, expected_error)

        def valid_at(self, record: Record, now: int) -> bool:
            return (
                not record.revoked
                and (record.expiry == 0 or record.expiry > now)
                and record.issuer in self.registered
            )

        # -- rules --------------------------------------------------------------------------

        @initialize(first=st.sets(st.integers(0, len(issuers) - 1), min_size=1))
        def register_some_issuers(self, first: set[int]) -> None:
            for who in sorted(first):
                self.register(who)

        @rule(**attest_args)
        def attest_signed(self, **args: Any) -> None:
            self.attest(signed=True, **args)

        @rule(**attest_args)
        def attest_directly(self, **args: Any) -> None:
            self.attest(signed=False, **args)

        def attest(
            self,
            *,
            signed: bool,
            who: int,
            about: int,
            schema: bytes,
            value: int,
            expiry_in: int | None,
            reuse: bool,
            gap: int,
        ) -> None:
            """Submit one attestation; the model predicts the outcome at the block's time."""
            at = self.next_time(gap)
            issuer = issuers[who]
            if reuse and self.records:
                uid = sorted(self.records)[value % len(self.records)]
            else:
                self.uid_counter += 1
                uid = keccak(text=f"uid-{self.uid_counter}")
            expiry = 0 if expiry_in is None else max(at + expiry_in, 0)
            att = Attestation(issuer.address, subjects[about].address, schema, value, expiry, uid)
            if signed:
                sig = sign_attestation(
                    issuer, att, chain_id=chain.chain_id, verifying_contract=rep.address
                )
                call = rep.functions.attestWithSignature(att.as_tuple(), sig)
                sender = admin
            else:
                call, sender = rep.functions.attest(att.as_tuple()), issuer
            if issuer.address not in self.registered:
                error: str | None = f"ReputationIssuerNotRegistered({issuer.address})"
            elif uid in self.records:
                error = f"ReputationDuplicateUid(0x{uid.hex()})"
            elif expiry != 0 and expiry <= at:
                error = f"ReputationExpired(0x{uid.hex()}, {expiry})"
            else:
                error = None
            self.check(send(chain, sender, call, at=at), error)
            if error is None:
                self.records[uid] = Record(issuer.address, att.subject, schema, value, expiry)

        @precondition(lambda self: bool(self.records))
        @rule(
            pick=st.integers(0, 10**6),
            by=st.one_of(st.none(), st.none(), st.integers(0, len(people) - 1)),
            unknown=st.sampled_from([False, False, False, True]),
        )
        def revoke(self, pick: int, by: int | None, unknown: bool) -> None:
            if unknown:
                uid = keccak(text=f"unknown-{pick}")
            else:
                uid = sorted(self.records)[pick % len(self.records)]
            record = self.records.get(uid)
            # None: the attestation's own issuer (the authorized caller)
            if by is None:
                caller = people[0] if record is None else chain.account(record.issuer)
            else:
                caller = people[by]
            if record is None:
                error: str | None = f"ReputationUnknownAttestation(0x{uid.hex()})"
            elif record.issuer != caller.address:
                error = f"ReputationNotIssuer({caller.address}, {record.issuer})"
            elif record.revoked:
                error = f"ReputationAlreadyRevoked(0x{uid.hex()})"
            else:
                error = None
            self.check(send(chain, caller, rep.functions.revoke(uid)), error)
            if error is None and record is not None:
                self.records[uid] = replace(record, revoked=True)

        @rule(who=st.integers(0, len(issuers) - 1), redundant=st.sampled_from([False] * 3 + [True]))
        def register_or_remove(self, who: int, redundant: bool) -> None:
            """Toggle ``who``'s registration, or (``redundant``) repeat its current state."""
            address = issuers[who].address
            registering = (address in self.registered) == redundant
            if registering:
                self.register(who)
            else:
                self.remove(who)

        def register(self, who: int) -> None:
            address = issuers[who].address
            error = f"ReputationIssuerUnchanged({address})" if address in self.registered else None
            self.check(send(chain, admin, rep.functions.registerIssuer(address)), error)
            self.registered.add(address)

        def remove(self, who: int) -> None:
            address = issuers[who].address
            error = None if address in self.registered else f"ReputationIssuerUnchanged({address})"
            self.check(send(chain, admin, rep.functions.removeIssuer(address)), error)
            self.registered.discard(address)

        @rule(
            seconds=st.integers(1, 250),
            to_expiry=st.booleans(),
            pick=st.integers(0, 10**6),
            off=st.sampled_from([-1, 0, 1]),
        )
        def advance_time(self, seconds: int, to_expiry: bool, pick: int, off: int) -> None:
            """Set the next block (the invariant's probe) ``seconds`` ahead, or exactly one
            second before, at or after a recorded expiry still ahead."""
            target = self.next_time(seconds)
            ahead = sorted(
                r.expiry + off
                for r in self.records.values()
                if r.expiry != 0 and r.expiry + off > chain.head.timestamp
            )
            if to_expiry and ahead:
                target = ahead[pick % len(ahead)]
            chain.set_next_block_time(target * 1000)

        # -- the property -------------------------------------------------------------------

        @invariant()
        def scores_and_validity_match_the_model(self) -> None:
            uids = sorted(self.records)
            call = probe.functions.read(
                rep.address,
                [s.address for s in subjects],
                list(SCHEMAS),
                uids,
                [i.address for i in issuers],
            )
            rec = send(chain, admin, call, gas=PROBE_GAS)
            assert rec.status == 1, rec.revert_reason
            now = chain.block(rec.block_number).timestamp
            seen_scores = seen_uids = seen_issuers = 0
            for log in rec.logs:
                assert log.event is not None
                args = log.event.args
                if log.event.name == "Scored":
                    assert args["timestamp"] == now
                    valid = [
                        r
                        for r in self.records.values()
                        if r.subject == args["subject"]
                        and r.schema == args["schema"]
                        and self.valid_at(r, now)
                    ]
                    assert (args["total"], args["count"]) == (
                        sum(r.value for r in valid),
                        len(valid),
                    )
                    seen_scores += 1
                elif log.event.name == "Validity":
                    record = self.records[args["uid"]]
                    assert args["valid"] == self.valid_at(record, now)
                    assert args["revoked"] == record.revoked
                    seen_uids += 1
                else:
                    assert args["registered"] == (args["issuer"] in self.registered)
                    seen_issuers += 1
            assert seen_scores == len(subjects) * len(SCHEMAS)
            assert (seen_uids, seen_issuers) == (len(uids), len(issuers))

    run_state_machine_as_test(
        ReputationMachine,
        settings=settings(max_examples=15, stateful_step_count=50, deadline=None),
    )
