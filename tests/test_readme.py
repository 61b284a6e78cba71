"""The README is the contract: its Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_chain_example_runs():
    block = next(b for b in _python_blocks() if "seed=7" in b)
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    chain = namespace["chain"]
    receipt = chain.receipt(namespace["tx_hash"])  # type: ignore[attr-defined]
    assert receipt.status == 1
    assert receipt.waited_ms is not None


def test_readme_compiler_example_runs():
    block = next(b for b in _python_blocks() if "compile_project()" in b)
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["art"].name == "MockERC20"  # type: ignore[attr-defined]


def test_readme_scenario_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the example writes under runs/
    block = next(b for b in _python_blocks() if "run_scenario(" in b)
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    outcome = namespace["outcome"]
    assert outcome.report_path.is_file()  # type: ignore[attr-defined]
    assert (tmp_path / "runs" / "small-from-python" / "summary.json").is_file()
