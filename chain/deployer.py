"""Contract deployment for ``Chain``: the project's artifacts, library linking and creation txs.

A :class:`Deployer` belongs to one chain. It loads the project's ``[tool.agentbed]`` table and
compiles its contracts lazily (the first ``deploy("Name")`` pays for it), links external
libraries (see :mod:`agentbed.chain.compiler.linking`) and sends the creation transaction
through the chain's public API, so a deployment goes through the mempool like any other tx.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from eth_abi import encode as abi_encode
from eth_utils import keccak
from eth_utils.abi import collapse_if_tuple

from agentbed.chain.errors import ExecutionReverted, UnknownTransaction
from agentbed.chain.types import Address

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3.contract import Contract

    from agentbed.chain.compiler import Artifact, Project
    from agentbed.chain.node import Chain


class Deployer:
    """Finds, links and deploys the contracts of one chain.

    Args:
        project_root: A directory in the project whose contracts ``deploy("Name")`` finds;
            None for the project above the current directory (see :class:`Chain`).
    """

    def __init__(self, project_root: str | None) -> None:
        self._project_root = project_root
        self._project: Project | None = None
        self._artifacts: Any = None
        # "deploy" libraries already on chain: path:Name -> (address, keccak of its code), so a
        # revert that removed one (or put other code there) is noticed and it is deployed again.
        self._libraries: dict[str, tuple[Address, bytes]] = {}
        self.deployments: list[tuple[Address, str]] = []
        """``(address, contract name)`` of each deployment, in order (snapshotted by Chain)."""

    @property
    def project(self) -> Project:
        """The project ``deploy("Name")`` compiles (its ``[tool.agentbed]`` table, read once).

        Raises:
            ProjectNotFound: ``project_root`` was given and no project is configured above it.
            ProjectConfigError: The project's table is malformed.
        """
        if self._project is None:
            from agentbed.chain.compiler import default_project, load_project

            if self._project_root is not None:
                self._project = load_project(self._project_root)
            else:
                self._project = default_project()
        return self._project

    @property
    def artifacts(self) -> Any:
        """Compiled project contracts (compiled once, then served from the on-disk cache)."""
        if self._artifacts is None:
            self._artifacts = self.project.compile()
        return self._artifacts

    def use_artifacts(self, artifacts: Any) -> None:
        """Deploy from these compiled artifacts instead of compiling the project's sources."""
        self._artifacts = artifacts

    def artifact(self, name_or_artifact: str | Artifact) -> Artifact:
        """The artifact itself, or the compiled one with that name (raises UnknownContract)."""
        if not isinstance(name_or_artifact, str):
            return name_or_artifact
        art: Artifact = self.artifacts.get(name_or_artifact)  # raises UnknownContract
        return art

    def deploy(
        self,
        chain: Chain,
        artifact: str | Artifact,
        args: Sequence[Any],
        *,
        sender: LocalAccount | Address | None,
        value: int,
        gas: int | None,
        libraries: Mapping[str, str] | None,
    ) -> Contract:
        """Deploy on ``chain``; the arguments and errors are those of :meth:`Chain.deploy`."""
        address, art = self.deploy_address(
            chain, artifact, args, sender=sender, value=value, gas=gas, libraries=libraries
        )
        return chain.contract(address, art)

    def deploy_address(
        self,
        chain: Chain,
        artifact: str | Artifact,
        args: Sequence[Any],
        *,
        sender: LocalAccount | Address | None,
        value: int,
        gas: int | None,
        libraries: Mapping[str, str] | None,
    ) -> tuple[Address, Artifact]:
        """As :meth:`deploy`, returning the address and the (linked) artifact deployed.

        No web3 contract object is made, so web3 (about 0.6 s of CPU to import, a tenth of a
        flagship run) is not imported for it.
        """
        art = self.artifact(artifact)
        acct = chain.accounts[0] if sender is None else sender
        if art.link_references:
            art = self._link(chain, art, libraries, acct)
        data = art.bytecode + encode_constructor(art.abi, args)
        chain.abi.register(art.name, art.abi)  # so a reverting constructor's error is decoded
        fields: dict[str, Any] = {"data": data, "value": value}
        if gas is not None:
            fields["gas"] = gas
        tx_hash = chain.submit(chain.sign(acct, fields))
        try:
            rec = chain.receipt(tx_hash)
        except UnknownTransaction:
            # Not mined yet (automine off, or the builder left it out): mine a block for it.
            chain.mine()
            rec = chain.receipt(tx_hash)
        if rec.status != 1 or rec.contract_address is None:
            raise ExecutionReverted(rec.revert_reason or f"constructor of {art.name} reverted")
        chain.abi.register(art.name, art.abi, rec.contract_address)
        self.deployments.append((rec.contract_address, art.name))
        return rec.contract_address, art

    def _link(
        self,
        chain: Chain,
        art: Artifact,
        libraries: Mapping[str, str] | None,
        sender: LocalAccount | Address,
    ) -> Artifact:
        """Link ``art`` with addresses from ``libraries`` and the project's table."""
        from agentbed.chain.compiler.linking import (
            DEPLOY,
            library_refs,
            link_artifact,
            lookup_library,
        )

        # The table belongs to the project's artifacts: it applies once the project was loaded.
        table = self._project.libraries if self._project is not None else {}
        wanted = {**table, **(libraries or {})}
        addresses = dict(wanted)
        for ref in library_refs(art):
            if lookup_library(ref, wanted) == DEPLOY:
                addresses[ref] = self._deployed_library(chain, ref, wanted, sender)
        return link_artifact(art, addresses)

    def _deployed_library(
        self,
        chain: Chain,
        ref: str,
        libraries: Mapping[str, str],
        sender: LocalAccount | Address,
    ) -> Address:
        """Address of library ``ref`` (``path:Name``) on ``chain``, deploying it if needed."""
        known = self._libraries.get(ref)
        if known is not None and keccak(chain.code(known[0])) == known[1]:
            return known[0]
        address, _ = self.deploy_address(
            chain,
            self.artifacts.get(ref),
            (),
            sender=sender,
            value=0,
            gas=None,
            libraries=libraries,
        )
        self._libraries[ref] = (address, keccak(chain.code(address)))
        return address


def encode_constructor(abi: Sequence[Mapping[str, Any]], args: Sequence[Any]) -> bytes:
    """ABI-encoded constructor arguments to append to the creation bytecode.

    Raises:
        TypeError: ``args`` does not match the constructor's number of inputs.
    """
    ctor = next((item for item in abi if item.get("type") == "constructor"), None)
    inputs = ctor.get("inputs", []) if ctor else []
    if len(args) != len(inputs):
        raise TypeError(f"constructor takes {len(inputs)} arguments, got {len(args)}")
    if not inputs:
        return b""
    return abi_encode([collapse_if_tuple(dict(i)) for i in inputs], list(args))


def deploy_address(
    chain: Chain, artifact: str | Artifact, *args: Any, sender: LocalAccount | None = None
) -> Address:
    """Deploy ``artifact`` on ``chain`` as :meth:`Chain.deploy` does; return its address only.

    For code that drives contracts by calldata (the market world): no web3 contract object,
    so a run that never asks for one never imports web3.

    Raises:
        UnknownContract: no artifact with that name.
        UnlinkedLibraries: a library the contract calls has no address.
        ExecutionReverted: the constructor reverted.
    """
    address, _ = chain._deployer.deploy_address(
        chain, artifact, args, sender=sender, value=0, gas=None, libraries=None
    )
    return address
