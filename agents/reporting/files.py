"""Files of a report, each written all at once or not at all.

A file is produced under a temporary name in its own directory and renamed into place, so an
interrupted report never leaves a half-written file; files with other names in the output
directory are never touched. Nothing here reads the wall clock: the same data gives the same
bytes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Produce ``path`` through ``write(tmp)`` and a rename: all of it or nothing.

    The temporary file lives in the same directory (so the rename is atomic) and is removed if
    ``write`` fails.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Write ``text`` atomically (UTF-8, ``\\n`` line ends)."""
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8", newline="\n"))


def summary_text(summary: Mapping[str, Any]) -> str:
    """A summary as ``summary.json`` holds it (sorted keys, so equal runs give equal bytes)."""
    return json.dumps(summary, indent=2, sort_keys=True) + "\n"
