"""The compiler's own errors: missing inputs, projects that are not configured, unlinked code.

Compile failures and missing tools keep their project-wide names (``CompilationError``,
``ToolchainError`` in ``agentbed.chain.errors``); what is specific to finding sources, reading a
project's ``[tool.agentbed]`` table and linking libraries lives here. Every message is one line
saying what was wrong and where.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentbed.chain.errors import TestbedError


class SourcePathError(TestbedError, FileNotFoundError):
    """An input path does not exist or holds no Solidity sources."""


class ProjectNotFound(SourcePathError):
    """No ``pyproject.toml`` with a ``[tool.agentbed]`` table above the directories searched.

    Args:
        searched: The start directories the search walked upwards from.
    """

    def __init__(self, searched: Sequence[object]) -> None:
        self.searched = tuple(str(place) for place in searched)
        places = ", nor in ".join(f"{place} or its parents" for place in self.searched)
        super().__init__(
            "no agentbed project found: no pyproject.toml with a [tool.agentbed] table in "
            f'{places}; add "[tool.agentbed]" (sources = ["contracts"]) to your pyproject.toml'
        )


class ProjectConfigError(TestbedError, ValueError):
    """A ``[tool.agentbed]`` table (or its ``pyproject.toml``) is malformed.

    Args:
        file: The ``pyproject.toml`` holding the table.
        key: The offending key, e.g. ``tool.agentbed.remappings[1]``.
        problem: What is wrong with it.
    """

    def __init__(self, file: object, key: str, problem: str) -> None:
        self.file = str(file)
        self.key = key
        super().__init__(f"{self.file}: {key}: {problem}")


class LibraryLinkError(TestbedError, ValueError):
    """A library address could not be linked into a contract's bytecode."""


class UnlinkedLibraries(LibraryLinkError):
    """A contract still references libraries nobody gave an address for.

    Args:
        contract: The contract being deployed or linked.
        missing: ``path:Name`` of each library without an address.
    """

    def __init__(self, contract: str, missing: Sequence[str]) -> None:
        self.contract = contract
        self.missing = tuple(missing)
        names = ", ".join(self.missing)
        super().__init__(
            f"{contract} needs libraries linked before it can be deployed: {names}; pass "
            'libraries={"Name": "0x..." or "deploy"} or add them to [tool.agentbed.libraries]'
        )
