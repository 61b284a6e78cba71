"""Compiling Uniswap v2 (pair, factory, Router02) from the npm packages with our compiler.

``@uniswap/v2-core`` 1.0.1 (``pragma solidity =0.5.16``) and ``@uniswap/v2-periphery``
1.1.0-beta.0 (``=0.6.6``) are compiled from ``node_modules`` by the project's compiler, each
with the release its pragmas pin (version groups), targeting Istanbul (the pair reads
``chainid``).

**The init-code hash.** Router02 finds a pair without a call, by the CREATE2 address
``UniswapV2Library.pairFor`` computes from the factory, the sorted tokens and a *hard-coded*
hash of the pair's creation code: the hash of the bytecode Uniswap deployed on mainnet, which
no other compile reproduces (the metadata hash at the end of the bytecode covers the compiler
settings and the source paths). What we do, honestly: compile the core first, take
``keccak256`` of *this* compile's ``UniswapV2Pair`` creation code (the factory deploys exactly
that code, ``type(UniswapV2Pair).creationCode``), and compile the periphery from a generated
copy of its sources in a temporary directory, identical to the npm files except for that one
hex literal in ``libraries/UniswapV2Library.sol``. Nothing generated is kept in the repository;
the compiler's artifact cache keys on the sources, so later runs compile nothing. The patch is
checked, not assumed: :func:`compile_uniswap_v2` fails when the literal is not found exactly
once, and the tests check that the router's ``pairFor`` address is the factory's pair.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, keccak

from agentbed.agents.erc20 import APPROVE_GAS
from agentbed.agents.market.venues.protocol import Pool, PoolSpec
from agentbed.agents.market.venues.uniswap_v2 import FEE_BPS, NAME, UniswapV2Venue
from agentbed.chain.compiler import Artifact
from agentbed.chain.compiler.compiler import compile_files

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from agentbed.chain.node import Chain

CORE = "@uniswap/v2-core"
PERIPHERY = "@uniswap/v2-periphery"
MAINNET_INIT_CODE_HASH = "96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f"
"""The pair init-code hash hard-coded in ``UniswapV2Library.pairFor`` (mainnet's pair)."""
LIBRARY = "libraries/UniswapV2Library.sol"
EVM_VERSION = "istanbul"
ROUTER_DEPLOY_GAS = 4_000_000
"""Least block gas limit a v2 market needs: Router02's creation uses 3,904,382 gas here."""


class UniswapV2NotInstalled(RuntimeError):
    """The npm packages ``@uniswap/v2-core`` / ``@uniswap/v2-periphery`` are not installed."""


@dataclass(frozen=True, slots=True)
class UniswapV2Artifacts:
    """The compiled contracts a Uniswap v2 venue deploys.

    Attributes:
        factory: ``UniswapV2Factory``.
        pair: ``UniswapV2Pair`` (for its ABI; the factory creates pairs).
        router: ``UniswapV2Router02``, its library patched to ``init_code_hash``.
        init_code_hash: ``keccak256`` of the pair's creation code from this compile.
    """

    factory: Artifact
    pair: Artifact
    router: Artifact
    init_code_hash: bytes


def find_node_modules(start: Path | None = None) -> Path:
    """The nearest ``node_modules`` holding ``@uniswap/v2-core``, upwards from ``start``
    (default: the working directory, then this package's repository).

    Raises:
        UniswapV2NotInstalled: None found; says which command installs them.
    """
    here = Path(__file__).resolve()
    for base in (start or Path.cwd(), here):
        for folder in (base, *base.parents):
            candidate = folder / "node_modules"
            if (candidate / CORE / "contracts").is_dir():
                return candidate
    raise UniswapV2NotInstalled(
        f"Uniswap v2 venue: {CORE} and {PERIPHERY} not found in any node_modules; "
        "run `npm ci` in the repository (package.json pins them)"
    )


def _artifact(artifacts: tuple[Artifact, ...], name: str) -> Artifact:
    found = [a for a in artifacts if a.name == name]
    if len(found) != 1:
        raise RuntimeError(f"Uniswap v2 compile: expected one {name}, got {len(found)}")
    return found[0]


def _patched_periphery(node_modules: Path, init_code_hash: bytes, into: Path) -> Path:
    """Copy the periphery's contracts to ``into`` with the library's hash replaced."""
    target = into / "contracts"
    shutil.copytree(node_modules / PERIPHERY / "contracts", target)
    library = target / LIBRARY
    text = library.read_text(encoding="utf-8")
    if text.count(MAINNET_INIT_CODE_HASH) != 1:
        raise RuntimeError(
            f"{PERIPHERY}/contracts/{LIBRARY}: expected the init-code hash "
            f"{MAINNET_INIT_CODE_HASH} exactly once; is this 1.1.0-beta.0?"
        )
    library.write_text(text.replace(MAINNET_INIT_CODE_HASH, init_code_hash.hex()), "utf-8")
    return target / "UniswapV2Router02.sol"


@cache
def compile_uniswap_v2(node_modules: Path | None = None) -> UniswapV2Artifacts:
    """Compile core and the patched periphery (see the module docstring); cached per process.

    Raises:
        UniswapV2NotInstalled: The npm packages are missing.
    """
    modules = (node_modules or find_node_modules()).resolve()
    core = modules / CORE / "contracts"
    built = compile_files(
        [core / "UniswapV2Factory.sol"], root=core, remappings=(), evm_version=EVM_VERSION
    )
    factory = _artifact(built.artifacts, "UniswapV2Factory")
    pair = _artifact(built.artifacts, "UniswapV2Pair")
    init_code_hash = keccak(pair.creation_bytecode)
    with tempfile.TemporaryDirectory(prefix="uniswap-v2-") as tmp:
        root = Path(tmp)
        router_file = _patched_periphery(modules, init_code_hash, root)
        periphery = compile_files(
            [router_file],
            root=root,
            remappings=(f"@uniswap/={modules / '@uniswap'}/",),
            evm_version=EVM_VERSION,
        )
    router = _artifact(periphery.artifacts, "UniswapV2Router02")
    return UniswapV2Artifacts(factory, pair, router, init_code_hash)


@dataclass(frozen=True, slots=True)
class UniswapV2Deployment:
    """A deployed factory and router, with the artifacts they came from."""

    factory: str
    router: str
    artifacts: UniswapV2Artifacts


def deploy_uniswap_v2(chain: Chain, owner: LocalAccount, weth: str) -> UniswapV2Deployment:
    """Deploy ``UniswapV2Factory`` (``owner`` as ``feeToSetter``, so the protocol fee stays off)
    and ``UniswapV2Router02`` on it. ``weth`` is what the router calls WETH: only its ETH swaps
    use it, and the market's agents trade tokens for tokens, so any token address serves.

    Each deploy is mined at once, with the block's whole gas limit.

    Raises:
        ValueError: The chain's block gas limit is below :data:`ROUTER_DEPLOY_GAS`.
    """
    if chain.gas_limit < ROUTER_DEPLOY_GAS:
        raise ValueError(
            f"a uniswap-v2 pool needs a block gas limit of at least {ROUTER_DEPLOY_GAS:,} to "
            f"deploy Router02 (about 3.9M gas); the chain's is {chain.gas_limit:,}: raise "
            "run.gas_limit"
        )
    artifacts = compile_uniswap_v2()
    factory = chain.deploy(artifacts.factory, owner.address, sender=owner, gas=chain.gas_limit)
    router = chain.deploy(
        artifacts.router, factory.address, weth, sender=owner, gas=chain.gas_limit
    )
    chain.abi.register("UniswapV2Pair", artifacts.pair.abi)
    return UniswapV2Deployment(str(factory.address), str(router.address), artifacts)


_MINT = function_signature_to_4byte_selector("mint(address,uint256)")


def deploy_pools(
    chain: Chain, owner: LocalAccount, tokens: Mapping[str, str], specs: Sequence[PoolSpec]
) -> tuple[UniswapV2Venue, list[Pool]]:
    """Deploy the factory and router, a pair per spec, and seed each with its reserves.

    Seeding mints the spec's reserves of both (mock) tokens straight to the pair and calls
    ``pair.mint(owner)``: the deployer holds the LP shares, less the ``MINIMUM_LIQUIDITY`` the
    pair locks at the zero address. The router's WETH is the market's ``WETH`` token when it
    has one, else its first token by symbol (see :func:`deploy_uniswap_v2`).

    Raises:
        ValueError: A spec's ``fee_bps`` is not the pair's fixed 30.
    """
    for spec in specs:
        if spec.fee_bps != FEE_BPS:
            raise ValueError(
                f"pool {spec.token0}/{spec.token1}: a uniswap-v2 pair's fee is fixed at "
                f"{FEE_BPS} bps, got fee_bps = {spec.fee_bps}"
            )
    deployment = deploy_uniswap_v2(chain, owner, tokens.get("WETH", tokens[min(tokens)]))
    factory = chain.contract(deployment.factory, deployment.artifacts.factory)
    pools = []
    for spec in specs:
        chain.transact(
            owner,
            factory.functions.createPair(tokens[spec.token0], tokens[spec.token1]),
            gas=chain.gas_limit,
        )
        chain.mine()
        address = factory.functions.getPair(tokens[spec.token0], tokens[spec.token1]).call()
        pair = chain.contract(address, deployment.artifacts.pair)
        flip = pair.functions.token0().call() != tokens[spec.token0]
        sym0, sym1 = (spec.token1, spec.token0) if flip else (spec.token0, spec.token1)
        amount0, amount1 = (
            (spec.reserve1, spec.reserve0) if flip else (spec.reserve0, spec.reserve1)
        )
        for sym, amount in ((sym0, amount0), (sym1, amount1)):
            data = _MINT + encode(("address", "uint256"), (str(address), amount))
            chain.transact(owner, to=tokens[sym], data=data, gas=APPROVE_GAS * 2)
        chain.transact(owner, pair.functions.mint(owner.address), gas=400_000)
        chain.mine()
        pools.append(
            Pool(str(address), tokens[sym0], tokens[sym1], sym0, sym1, FEE_BPS, venue=NAME)
        )
    venue = UniswapV2Venue(
        deployment.router, deployment.factory, {p.address: (p.token0, p.token1) for p in pools}
    )
    return venue, pools
