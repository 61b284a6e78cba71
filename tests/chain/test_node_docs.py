"""``docs/node.md`` lists every method the provider (and so ``testbed node``) serves."""

from __future__ import annotations

import re
from pathlib import Path

from agentbed.chain.provider import METHODS

DOC = Path(__file__).resolve().parents[2] / "docs" / "node.md"


def test_every_served_method_is_in_the_served_table() -> None:
    text = DOC.read_text()
    served = text.split("## Served", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`([a-z0-9]+_[A-Za-z0-9]+)`", served))
    missing = sorted(set(METHODS) - named)
    assert not missing, f"docs/node.md's Served table does not list {missing}"
    not_served = text.split("## Not served, and why", 1)[1]
    first_cells = (line.split("|")[1] for line in not_served.splitlines() if line.startswith("| `"))
    listed_as_missing = {m for cell in first_cells for m in re.findall(r"`([a-z0-9]+_\w+)", cell)}
    assert not (listed_as_missing & set(METHODS)), "a served method is listed as not served"
