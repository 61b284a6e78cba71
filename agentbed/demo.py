"""``testbed demo``: compile and deploy the project, then show ordering as a variable.

Until the flagship MEV demo (agents and simulations) exists, the main job does what the chain
can show today, deterministically from one seed:

1. compile every contract under ``contracts/`` and print their sizes;
2. deploy each deployable project contract (not test mocks) on a fresh chain (constructor
   arguments are filled in from their ABI types: strings get the contract name, addresses
   successive accounts, numbers zero);
3. submit the same token transfers, with different tips and arrival times, and build the
   block under each ordering policy from the same snapshot: the printed orders differ;
4. send a private bundle that pays the builder directly and show it lands first under the
   bundles-first policy while staying invisible in every public mempool view;
5. a demand shock that fills blocks and drives the EIP-1559 base fee up, then lets it decay;
6. the commitment contracts wired together (currency, staking, reputation, and the escrow in
   which an arbitrator is appointed only with its signed consent) and one three-party
   agreement settled, leaving a verifiable reputation attestation for the seller.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from agentbed.agents.economy.consent import Terms, sign_consent
from agentbed.chain.compiler import Artifact, CompileResult, compile_project
from agentbed.chain.errors import ExecutionReverted, GasEstimationFailed
from agentbed.chain.interfaces import OrderingPolicy
from agentbed.chain.node import GWEI, Chain
from agentbed.chain.ordering import (
    BundlesFirstPolicy,
    FifoPolicy,
    FrequentBatchPolicy,
    PriorityFeePolicy,
    RandomPolicy,
)

TOKEN = "MockERC20"


def _default_arg(abi_type: str, artifact: Artifact, deployer: str) -> Any:
    if abi_type.endswith("]"):
        return []
    if abi_type == "string":
        return artifact.name
    if abi_type == "address":
        return deployer
    if abi_type == "bool":
        return False
    if abi_type.startswith(("uint", "int")):
        return 0
    if abi_type == "bytes":
        return b""
    if abi_type.startswith("bytes"):
        return b"\x00" * int(abi_type[5:])
    raise ValueError(f"no default for constructor argument of type {abi_type}")


def _constructor_args(artifact: Artifact, addresses: Sequence[str]) -> list[Any]:
    ctor = next((i for i in artifact.abi if i.get("type") == "constructor"), None)
    inputs: Sequence[Mapping[str, Any]] = ctor.get("inputs", []) if ctor else []
    # Distinct address arguments get distinct accounts (e.g. the two tokens of a pool).
    spare = iter(addresses)
    return [
        next(spare) if i["type"] == "address" else _default_arg(i["type"], artifact, addresses[0])
        for i in inputs
    ]


def _deploy_all(chain: Chain, result: CompileResult, out: TextIO) -> dict[str, str]:
    deployed: dict[str, str] = {}
    addresses = [a.address for a in chain.accounts]
    for art in result.artifacts:
        if not art.creation_bytecode or art.source.startswith(
            ("node_modules/", "contracts/mocks/")
        ):
            continue  # libraries and test doubles are not the project's contracts
        try:
            contract = chain.deploy(art, *_constructor_args(art, addresses))
        except (ExecutionReverted, GasEstimationFailed, ValueError) as err:
            print(f"  {art.name:<24} not deployed: {err}", file=out)
            continue
        receipt_gas = chain.receipt(chain.block().tx_hashes[-1]).gas_used
        print(f"  {art.name:<24} {contract.address}  gas {receipt_gas:,}", file=out)
        deployed[art.name] = contract.address
    return deployed


def _ordering_showcase(chain: Chain, token: Any, out: TextIO) -> dict[str, list[str]]:
    """Same transfers, one block per policy, each built from the same snapshot."""
    agents = chain.accounts[1:7]
    names = [f"agent{i}" for i in range(1, len(agents) + 1)]
    tips = [2, 9, 4, 9, 1, 6]
    arrivals = [100, 400, 900, 1_300, 1_500, 2_600]
    for agent in agents:
        chain.transact(chain.accounts[0], token.functions.mint(agent.address, 10**21))
    chain.automine = False
    start = chain.now_ms
    for agent, tip, at in zip(agents, tips, arrivals, strict=True):
        call = token.functions.transfer(chain.accounts[0].address, 10**18)
        raw = chain.sign(
            agent,
            {
                "to": token.address,
                "data": bytes.fromhex(call._encode_transaction_data()[2:]),
                "gas": 80_000,
                "maxPriorityFeePerGas": tip * GWEI,
                "maxFeePerGas": 50 * GWEI,
            },
        )
        chain.submit(raw, at_ms=start + at, origin=agent.address)
    by_sender: dict[str, str] = {a.address: n for a, n in zip(agents, names, strict=True)}
    print("\n  sender   tip(gwei)  arrival(ms)", file=out)
    for n, tip, at in zip(names, tips, arrivals, strict=True):
        print(f"  {n:<8} {tip:>9}  {at:>11}", file=out)
    policies: list[OrderingPolicy] = [
        FifoPolicy(),
        PriorityFeePolicy(),
        RandomPolicy(),
        FrequentBatchPolicy(window_ms=1_000),
    ]
    orders: dict[str, list[str]] = {}
    sid = chain.snapshot()
    for policy in policies:
        chain.revert(sid)
        sid = chain.snapshot()
        chain.set_policy(policy)
        (block,) = chain.mine()
        order = [by_sender[chain.receipt(h).sender] for h in block.tx_hashes]
        orders[policy.name] = order
        print(f"  {policy.name:<16} block {block.number}: {' > '.join(order)}", file=out)
    chain.revert(sid)
    chain.set_policy(PriorityFeePolicy())
    chain.mine()  # keep the priority-fee block, so later sections start from an empty pool
    return orders


def _bundle_showcase(chain: Chain, out: TextIO) -> dict[str, Any]:
    searcher, victim = chain.accounts[7], chain.accounts[8]
    sink = chain.accounts[0].address
    chain.automine = False
    chain.set_policy(BundlesFirstPolicy(PriorityFeePolicy()))
    public = chain.submit(
        chain.sign(
            victim,
            {
                "to": sink,
                "value": 1,
                "gas": 21_000,
                "maxPriorityFeePerGas": 30 * GWEI,
                "maxFeePerGas": 60 * GWEI,
            },
        ),
        origin="victim",
    )
    # The bundle pays the builder by a plain transfer to the coinbase, beyond its tip.
    raw = chain.sign(
        searcher,
        {
            "to": chain.coinbase,
            "value": 10**16,
            "gas": 21_000,
            "maxPriorityFeePerGas": 0,
            "maxFeePerGas": 60 * GWEI,
        },
    )
    bundle_id = chain.submit_bundle([raw])
    visible = [p.hash for p in chain.mempool_view("anyone")]
    (block,) = chain.mine()
    first = chain.receipt(block.tx_hashes[0])
    print(
        f"\n  public view holds {len(visible)} tx (the bundle is private); block {block.number}"
        f" puts the bundle first: {first.bundle == bundle_id}, then the 30-gwei public tx:"
        f" {block.tx_hashes[1] == public}",
        file=out,
    )
    print(
        f"  coinbase received {block.priority_fees / 1e18:.6f} ETH in tips and"
        f" {block.coinbase_transfers / 1e18:.6f} ETH in direct payments",
        file=out,
    )
    return {
        "bundle_first": first.bundle == bundle_id,
        "coinbase_transfers_wei": block.coinbase_transfers,
        "priority_fees_wei": block.priority_fees,
    }


def _congestion_showcase(chain: Chain, out: TextIO) -> list[int]:
    chain.set_policy(PriorityFeePolicy())
    spammers = chain.accounts[1:]
    fees = []
    per_block = chain.gas_limit // 21_000
    print(
        f"\n  demand shock: {per_block} transfers/block fill a {chain.gas_limit:,}-gas block",
        file=out,
    )
    for round_ in range(8):
        if round_ < 4:
            for i in range(per_block):
                sender = spammers[i % len(spammers)]
                chain.submit(
                    chain.sign(
                        sender,
                        {
                            "to": sender.address,
                            "value": 0,
                            "gas": 21_000,
                            "maxPriorityFeePerGas": GWEI,
                            "maxFeePerGas": 500 * GWEI,
                        },
                    )
                )
        (block,) = chain.mine()
        fees.append(block.base_fee)
        print(
            f"  block {block.number:>3}: {len(block.tx_hashes):>3} txs, gas used"
            f" {block.gas_used / block.gas_limit:6.1%}, base fee {block.base_fee / GWEI:8.4f} gwei",
            file=out,
        )
    return fees


def _commitment_showcase(chain: Chain, out: TextIO) -> dict[str, Any]:
    """Wire currency, staking, reputation and escrow, and settle one three-party agreement."""
    admin, treasury, buyer, seller, arbitrator = chain.accounts[:5]
    chain.automine = True
    chain.set_policy(PriorityFeePolicy())
    coin = chain.deploy("AgentCurrency", "Agent Credit", "AGC", admin.address, 0)
    staking = chain.deploy("Staking", coin.address, 86_400, treasury.address, admin.address)
    reputation = chain.deploy("Reputation", admin.address)
    escrow = chain.deploy(
        "ConsentEscrow",  # the plain Escrow lets anyone appoint (and get slashed) any arbitrator
        coin.address,
        staking.address,
        reputation.address,
        100 * 10**18,  # minimum arbitrator stake
        3_600,  # ruling window (s)
        1,  # TimeoutPolicy.SlashBoth
        50 * 10**18,  # arbitrator slash on a no-show
        treasury.address,
        0,  # grace period after deliverBy (s)
    )
    chain.transact(
        admin, coin.functions.grantRole(coin.functions.MINTER_ROLE().call(), admin.address)
    )
    chain.transact(
        admin, staking.functions.grantRole(staking.functions.SLASHER_ROLE().call(), escrow.address)
    )
    chain.transact(admin, reputation.functions.registerIssuer(escrow.address))
    for agent in (buyer, seller, arbitrator):
        chain.transact(admin, coin.functions.mint(agent.address, 1_000 * 10**18))
    chain.transact(arbitrator, coin.functions.approve(staking.address, 2**256 - 1))
    chain.transact(arbitrator, staking.functions.stake(200 * 10**18))
    for party in (buyer, seller):
        chain.transact(party, coin.functions.approve(escrow.address, 2**256 - 1))
    now = chain.head.timestamp
    terms = Terms(
        seller.address,
        arbitrator.address,
        300 * 10**18,
        20 * 10**18,
        30 * 10**18,
        5 * 10**18,
        now + 3_600,
        now + 86_400,
    )
    # The arbitrator signs the full terms (its fee included) off-chain; the buyer submits it.
    salt = (1).to_bytes(32, "big")
    consent = sign_consent(
        arbitrator, buyer.address, terms, salt, chain_id=chain.chain_id, escrow=escrow.address
    )
    propose = chain.transact(
        buyer, escrow.functions.proposeWithConsent(terms.as_tuple(), salt, consent)
    )
    agreement_id = next(
        log.event.args["id"]
        for log in chain.receipt(propose).logs
        if log.event and log.event.name == "EscrowProposed"
    )
    chain.transact(seller, escrow.functions.accept(agreement_id))
    chain.transact(buyer, escrow.functions.confirm(agreement_id))
    release = chain.transact(seller, escrow.functions.confirm(agreement_id))
    events = [log.event.name for log in chain.receipt(release).logs if log.event]
    escrow_balance = coin.functions.balanceOf(escrow.address).call()
    completed = escrow.functions.COMPLETED().call()
    total, count = reputation.functions.score(seller.address, completed).call()
    balances = {
        name: coin.functions.balanceOf(agent.address).call() // 10**18
        for name, agent in (("buyer", buyer), ("seller", seller), ("arbitrator", arbitrator))
    }
    print(
        f"  AgentCurrency {coin.address}, Staking {staking.address},\n"
        f"  Reputation {reputation.address}, ConsentEscrow {escrow.address}\n"
        f"  agreement {agreement_id}: buyer pays 300 AGC to seller, arbitrator (200 AGC staked)"
        f" consents (EIP-712) to a 5 AGC fee; both confirm -> "
        f"{', '.join(dict.fromkeys(events))}\n"
        f"  balances now: {balances}; escrow holds {escrow_balance} wei\n"
        f"  seller's verifiable reputation: escrow.completed score {total} from {count}"
        f" attestation(s)",
        file=out,
    )
    return {
        "agreement": agreement_id,
        "balances": balances,
        "seller_completed": [total, count],
        "escrow_balance": escrow_balance,
    }


def run_demo(*, seed: int, json_out: Path | None, out: TextIO) -> int:
    """Run the demo; return an exit code."""
    print("== compile (solc-js via py-solc-x, cached) ==", file=out)
    result = compile_project()
    print(
        f"  {len(result.artifacts)} artifacts, solc {result.compiler_version}"
        f" ({'cache' if result.from_cache else 'compiled'})",
        file=out,
    )
    chain = Chain(seed=seed, accounts=10, gas_limit=3_000_000)
    chain.use_artifacts(result)
    print(f"\n== deploy on a fresh chain (seed {seed}, chain id {chain.chain_id}) ==", file=out)
    deployed = _deploy_all(chain, result, out)
    summary: dict[str, Any] = {"seed": seed, "deployed": deployed}
    names = {a.name for a in result.artifacts}
    if TOKEN in names:
        print("\n== one mempool, four orderings (same txs, same snapshot) ==", file=out)
        token = chain.deploy(TOKEN, "Demo Token", "DMO")  # open mint: a token to move around
        summary["orders"] = _ordering_showcase(chain, token, out)
    print("\n== a private bundle under the bundles-first builder ==", file=out)
    summary["bundle"] = _bundle_showcase(chain, out)
    print("\n== congestion and EIP-1559 ==", file=out)
    summary["base_fees_wei"] = _congestion_showcase(chain, out)
    if {"AgentCurrency", "Staking", "Reputation", "ConsentEscrow"} <= names:
        print("\n== a three-party commitment: currency, staking, escrow, reputation ==", file=out)
        summary["commitment"] = _commitment_showcase(chain, out)
    summary["head"] = {"number": chain.block_number, "hash": "0x" + chain.head.hash.hex()}
    print(
        f"\nhead block {chain.block_number} hash 0x{chain.head.hash.hex()} (same seed, same hash)",
        file=out,
    )
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {json_out}", file=out)
    return 0
