"""Solidity compiler front end: solc-js (npm) through py-solc-x, with a content-addressed cache.

Typical use::

    from agentbed.chain.compiler import compile_project

    result = compile_project()          # contracts/ of the project root
    token = result["MockERC20"]         # or result["contracts/mocks/MockERC20.sol:MockERC20"]
    token.abi, token.creation_bytecode, token.runtime_bytecode

Modules: ``config`` (settings, cache locations), ``versions`` (pragma ranges), ``solcjs``
(installing solc-js per version), ``shim`` (the native-solc-compatible Node script),
``imports`` (import closure), ``artifacts`` (typed output), ``cache`` (on-disk cache),
``compiler`` (the ``Compiler`` tying them together).
"""

from __future__ import annotations

from agentbed.chain.compiler.artifacts import AmbiguousContractName, Artifact, CompileResult
from agentbed.chain.compiler.compiler import (
    Compiler,
    SourcePathError,
    compile_files,
    compile_project,
)
from agentbed.chain.compiler.config import (
    DEFAULT_SOLC_VERSION,
    EIP170_RUNTIME_LIMIT,
    CompilerConfig,
    find_project_root,
)

__all__ = [
    "DEFAULT_SOLC_VERSION",
    "EIP170_RUNTIME_LIMIT",
    "AmbiguousContractName",
    "Artifact",
    "CompileResult",
    "Compiler",
    "CompilerConfig",
    "SourcePathError",
    "compile_files",
    "compile_project",
    "find_project_root",
]
