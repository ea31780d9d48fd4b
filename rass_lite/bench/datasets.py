"""Benchmark prompt sets: the packaged MORBench-lite and importers for users' own files.

A benchmark record: id, item (the language-independent item id), lang, prompt, label
(benign_sensitive | harmful | benign), category, source.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
from collections import Counter, defaultdict
from importlib import resources
from pathlib import Path

from ..errors import InputError
from ..records import iter_jsonl, read_text

BUILTIN = ("morbench-lite",)
LABELS = ("benign_sensitive", "harmful", "benign")
LANGS = ("en", "zh", "es", "fr", "de", "ja", "ru", "ar")
XSTEST_LABELS = {"safe": "benign_sensitive", "unsafe": "harmful"}


def load_set(name: str, *, label: str | None = None, lang: str | None = None) -> tuple[list[dict], str]:
    """Records of a packaged set or a file, and the sha256 of what was read.

    `.jsonl`: our format. `.csv`: XSTest-style (prompt,type,label with safe/unsafe) or OR-Bench-style
    (prompt,category, needs `label`). `.txt`: one prompt a line, needs `label` (lang defaults to en)."""
    if name in BUILTIN:
        folder = resources.files("rass_lite").joinpath("data/morbench_lite")
        texts = [(f"{name}/{code}.jsonl", folder.joinpath(f"{code}.jsonl").read_text(encoding="utf-8")) for code in LANGS]
        records = [r for where, text in texts for _, r in iter_jsonl(text, where)]
        digest = hashlib.sha256("".join(t for _, t in texts).encode()).hexdigest()
        return records, digest
    path = Path(name)
    if not path.suffix:
        raise InputError(f"unknown set {name!r}; built-in sets: {', '.join(BUILTIN)}, or a .jsonl/.csv/.txt file")
    text = read_text(path)
    digest = hashlib.sha256(text.encode()).hexdigest()
    if label is not None and label not in LABELS:
        raise InputError(f"unknown label {label!r}; labels are {', '.join(LABELS)}")
    if path.suffix == ".jsonl":
        records = _from_jsonl(text, path, label, lang)
    elif path.suffix == ".csv":
        records = _from_csv(text, path, label, lang)
    elif path.suffix == ".txt":
        if label is None:
            raise InputError(f"{path}: a plain-text set needs --label ({', '.join(LABELS)})")
        records = [_record(path, n, line.strip(), label, "", lang) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    else:
        raise InputError(f"{path}: unknown set format {path.suffix!r}; use .jsonl, .csv or .txt")
    if not records:
        raise InputError(f"{path}: no prompts found")
    return records, digest


def _record(path: Path, line: int, prompt: str, label: str, category: str, lang: str | None, rid: str | None = None) -> dict:
    rid = rid or f"{path.stem}-{line}"
    return {"id": rid, "item": rid, "lang": lang or "en", "prompt": prompt, "label": label,
            "category": category, "source": path.name}


def _from_jsonl(text: str, path: Path, label: str | None, lang: str | None) -> list[dict]:
    records = []
    for n, r in iter_jsonl(text, path):
        if not isinstance(r.get("prompt"), str) or not r["prompt"].strip():
            raise InputError(f"{path}:{n}: field 'prompt' is missing or empty")
        rec_label = r.get("label", label)
        if rec_label not in LABELS:
            raise InputError(f"{path}:{n}: label {rec_label!r} is not one of {', '.join(LABELS)} (or pass --label)")
        rec = _record(path, n, r["prompt"], rec_label, str(r.get("category", "")), r.get("lang", lang), str(r.get("id", "")) or None)
        rec["item"] = str(r.get("item", rec["id"]))
        rec["source"] = str(r.get("source", rec["source"]))
        records.append(rec)
    return records


def _from_csv(text: str, path: Path, label: str | None, lang: str | None) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "prompt" not in header:
        raise InputError(f"{path}:1: no 'prompt' column; expected XSTest-style prompt,type,label or OR-Bench-style prompt,category")
    xstest = "label" in header and "type" in header
    if not xstest and label is None:
        raise InputError(f"{path}: an OR-Bench-style CSV (prompt,category) needs --label ({', '.join(LABELS)})")
    records = []
    for n, row in enumerate(reader, start=2):  # line 1 is the header
        if None in row or any(v is None for v in row.values()):
            raise InputError(f"{path}:{n}: expected {len(header)} columns ({', '.join(header)})")
        prompt = (row.get("prompt") or "").strip()
        if not prompt:
            raise InputError(f"{path}:{n}: empty prompt")
        if xstest:
            raw = row["label"].strip().lower()
            if raw not in XSTEST_LABELS:
                raise InputError(f"{path}:{n}: label {row['label']!r} is neither 'safe' nor 'unsafe'")
            rec_label, category = XSTEST_LABELS[raw], row["type"].strip()
        else:
            rec_label, category = label, (row.get("category") or "").strip()
        rid = (row.get("id") or "").strip() or None
        records.append(_record(path, n, prompt, rec_label, category, lang, rid))
    return records


def select(records: list[dict], *, langs: list[str] | None = None, labels: list[str] | None = None,
           limit: int | None = None) -> list[dict]:
    """Filter by language and label (each value checked), then keep the first `limit` per language x label."""
    present_langs = sorted({r["lang"] for r in records})
    for lang in langs or []:
        if lang not in present_langs:
            raise InputError(f"unknown language {lang!r} for this set; it has {', '.join(present_langs)}")
    for label in labels or []:
        if label not in LABELS:
            raise InputError(f"unknown label {label!r}; labels are {', '.join(LABELS)}")
    chosen = [r for r in records if (not langs or r["lang"] in langs) and (not labels or r["label"] in labels)]
    if limit is not None:
        seen: Counter = Counter()
        kept = []
        for r in chosen:
            seen[r["lang"], r["label"]] += 1
            if seen[r["lang"], r["label"]] <= limit:
                kept.append(r)
        chosen = kept
    if not chosen:
        raise InputError("no prompts left after the --langs/--labels/--limit filters")
    return chosen


QUICK_LANGS = ("en", "zh", "es")
QUICK_PER_LABEL = 10
QUICK_SEED = 0


def quick_sample(records: list[dict]) -> list[dict]:
    """A fixed stratified sample: the same 10 items per label in each of en, zh and es, spread over
    categories, so languages compare pair by pair."""
    by_label: dict[str, list[str]] = defaultdict(list)
    for r in records:
        if r["lang"] == "en":
            by_label[r["label"]].append(r["item"])
    rng = random.Random(QUICK_SEED)
    items = {i for label in LABELS for i in rng.sample(sorted(by_label[label]), min(QUICK_PER_LABEL, len(by_label[label])))}
    return [r for r in records if r["lang"] in QUICK_LANGS and r["item"] in items]


def stats(records: list[dict]) -> dict[str, dict[str, int]]:
    """{lang: {label: count}}."""
    out: dict[str, dict[str, int]] = {}
    for r in records:
        out.setdefault(r["lang"], {}).setdefault(r["label"], 0)
        out[r["lang"]][r["label"]] += 1
    return out
