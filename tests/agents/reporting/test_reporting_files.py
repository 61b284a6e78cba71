"""Report files: written whole or not at all, with fixed bytes for the same data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentbed.agents.reporting.files import summary_text, write_atomic, write_text


def test_write_text_creates_directories_and_uses_unix_line_ends(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "report.md"
    write_text(target, "één\nline\n")
    assert target.read_bytes() == "één\nline\n".encode()
    assert [p.name for p in target.parent.iterdir()] == ["report.md"]


def test_write_atomic_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    target.write_text("old")

    def broken(tmp: Path) -> None:
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_summary_text_sorts_keys_so_equal_summaries_give_equal_bytes() -> None:
    one = summary_text({"b": 1, "a": {"d": 2, "c": 3}})
    two = summary_text({"a": {"c": 3, "d": 2}, "b": 1})
    assert one == two
    assert one.endswith("}\n")
    assert list(json.loads(one)) == ["a", "b"]
