"""Load a labelled answer set (JSON lines with at least lang, prompt, response, label)."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..records import iter_jsonl, read_text
from . import OUTCOMES

REQUIRED = ("id", "lang", "prompt", "response", "label")


def load_labelled(path: str | Path) -> list[dict]:
    """Rows of a labelled set; one InputError naming file and line for a bad row."""
    path = Path(path)
    rows = []
    for n, row in iter_jsonl(read_text(path), path):
        missing = [k for k in REQUIRED if k not in row]
        if missing:
            raise InputError(f"{path}:{n}: missing field(s) {', '.join(missing)}")
        if row["label"] not in OUTCOMES:
            raise InputError(f"{path}:{n}: unknown label {row['label']!r}; use one of {', '.join(OUTCOMES)}")
        rows.append(row)
    return rows
