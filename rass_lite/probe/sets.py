"""Probe sets: labelled harmful and harmless prompts that the refusal direction is learned from,
each line with an optional `split` (train | val)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import InputError
from ..records import iter_jsonl, read_text, require_prompt

MIN_PER_CLASS = 10


@dataclass
class ProbeSet:
    records: list[dict]
    sha256: str
    source: str

    def split(self, name: str) -> list[dict]:
        return [r for r in self.records if r.get("split", "train") == name]


def load_probe_set(path: str | Path | None, kind: str) -> ProbeSet:
    """A probe set from a JSONL file, or the packaged one (`kind` = harmful | harmless)."""
    if path is None:
        text = resources.files("rass_lite").joinpath(f"data/probe/{kind}.jsonl").read_text(encoding="utf-8")
        source = f"packaged:{kind}.jsonl"
    else:
        text, source = read_text(Path(path)), str(path)
    records = []
    for i, r in iter_jsonl(text, source):
        require_prompt(r, source, i)
        r.setdefault("id", f"{kind}-{i}")
        r.setdefault("lang", "en")
        records.append(r)
    for name in ("train", "val"):
        n = sum(1 for r in records if r.get("split", "train") == name)
        if n < MIN_PER_CLASS:
            raise InputError(f"{source}: {n} {kind} prompts in split {name!r}; need at least {MIN_PER_CLASS} "
                             "(mark about a third of the lines with \"split\": \"val\")")
    return ProbeSet(records, hashlib.sha256(text.encode()).hexdigest(), source)
