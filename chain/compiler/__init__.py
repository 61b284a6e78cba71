"""Solidity compiler front end: solc-js (npm) through py-solc-x, with a content-addressed cache.

Typical use::

    from agentbed.chain.compiler import compile_project, load_project

    result = compile_project()          # the project above the current directory
    token = result["MockERC20"]         # or result["contracts/mocks/MockERC20.sol:MockERC20"]
    token.abi, token.creation_bytecode, token.runtime_bytecode

    project = load_project()            # its [tool.agentbed] table, parsed
    project.root, project.config.sources, project.libraries

Modules: ``config`` (settings, cache locations, finding a project root), ``project`` (the
``[tool.agentbed]`` table and compiling a project), ``library`` (agentbed's own contracts next
to a project's), ``versions`` (pragma ranges), ``groups`` (one compile per needed version),
``solcjs`` (installing solc-js per version), ``shim`` (the native-solc-compatible Node script),
``imports`` (import closure), ``artifacts`` (typed output), ``linking`` (library addresses into
bytecode), ``cache`` (on-disk cache), ``errors``, ``compiler`` (the ``Compiler`` tying them
together).
"""

from __future__ import annotations

from agentbed.chain.compiler.artifacts import AmbiguousContractName, Artifact, CompileResult
from agentbed.chain.compiler.compiler import Compiler, compile_files
from agentbed.chain.compiler.config import (
    DEFAULT_SOLC_VERSION,
    EIP170_RUNTIME_LIMIT,
    CompilerConfig,
    find_project_root,
)
from agentbed.chain.compiler.errors import (
    LibraryLinkError,
    ProjectConfigError,
    ProjectNotFound,
    SourcePathError,
    UnlinkedLibraries,
)
from agentbed.chain.compiler.linking import library_refs, link_artifact
from agentbed.chain.compiler.project import (
    Project,
    ProjectConfig,
    compile_project,
    default_project,
    find_project,
    library_project,
    load_project,
)

__all__ = [
    "DEFAULT_SOLC_VERSION",
    "EIP170_RUNTIME_LIMIT",
    "AmbiguousContractName",
    "Artifact",
    "CompileResult",
    "Compiler",
    "CompilerConfig",
    "LibraryLinkError",
    "Project",
    "ProjectConfig",
    "ProjectConfigError",
    "ProjectNotFound",
    "SourcePathError",
    "UnlinkedLibraries",
    "compile_files",
    "compile_project",
    "default_project",
    "find_project",
    "find_project_root",
    "library_project",
    "library_refs",
    "link_artifact",
    "load_project",
]
