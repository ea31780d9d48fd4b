"""Load a labelled answer set (JSON lines with at least lang, prompt, response, label)."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError
from . import OUTCOMES

REQUIRED = ("id", "lang", "prompt", "response", "label")


def load_labelled(path: str | Path) -> list[dict]:
    """Rows of a labelled set; one InputError naming file and line for a bad row."""
    path = Path(path)
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}:{n}: not valid JSON ({e.msg}); fix or remove the line") from None
        missing = [k for k in REQUIRED if k not in row]
        if missing:
            raise InputError(f"{path}:{n}: missing field(s) {', '.join(missing)}")
        if row["label"] not in OUTCOMES:
            raise InputError(f"{path}:{n}: unknown label {row['label']!r}; use one of {', '.join(OUTCOMES)}")
        rows.append(row)
    return rows
