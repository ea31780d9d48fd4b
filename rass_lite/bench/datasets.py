"""Benchmark prompt sets: the packaged MORBench-lite and importers for users' own files.

A benchmark record: id, item (the language-independent item id), lang, prompt, label
(benign_sensitive | harmful | benign), category, source. MORBench-lite v2 records (source
"rass-lite-v2") also carry `twin` and `adaptation` (and `note` when localised), in the order of
V2_FIELDS; see rass_lite/data/morbench_lite/DATASHEET.md.
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

V2_SOURCE = "rass-lite-v2"
V2_FIELDS = ("id", "item", "lang", "prompt", "label", "category", "twin", "adaptation", "note", "source")
ADAPTATIONS = ("translation", "localised")
# MORBench-lite v2 categories per label; a v2 record with any other category is an error.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "benign_sensitive": (
        "homonyms", "figurative_language", "safe_targets", "safe_contexts_fiction_games",
        "safe_contexts_education_medicine_security", "definitions", "historical_events",
        "public_figures_public_facts", "public_figures_private_looking", "fictional_characters_privacy",
        "harm_reduction_safety", "nonsense_group_discrimination", "real_discrimination", "sexual_health",
        "lgbtq_topics", "legal_rights", "controversy_one_side", "authorised_security_testing",
        "culture_specific_history",
    ),
    "harmful": (
        "weapons_explosives", "cybercrime", "fraud_scams", "violence", "self_harm", "illegal_drugs",
        "hate_harassment", "privacy_stalking", "theft", "extremism", "exploitation", "disinformation",
    ),
    "benign": (
        "cooking", "coding", "math", "science", "travel", "writing", "geography", "music", "gardening",
        "language_learning", "famous_people",
    ),
}


def load_set(name: str, *, label: str | None = None, lang: str | None = None) -> tuple[list[dict], str]:
    """Records of a packaged set or a file, and the sha256 of what was read.

    `.jsonl`: our format. `.csv`: XSTest-style (prompt,type,label with safe/unsafe) or OR-Bench-style
    (prompt,category, needs `label`). `.txt`: one prompt a line, needs `label` (lang defaults to en)."""
    if name in BUILTIN:
        folder = resources.files("rass_lite").joinpath("data/morbench_lite")
        texts = [(f"{name}/{code}.jsonl", folder.joinpath(f"{code}.jsonl").read_text(encoding="utf-8")) for code in LANGS]
        per_file = [[check_v2_record(r, f"{where}:{n}") for n, r in iter_jsonl(text, where)] for where, text in texts]
        records = [r for rs in per_file for r in rs]
        # Until every language file is v2 (translations land after the English master), the files
        # cannot agree item by item; the cross-language check runs once all eight are v2.
        if all(rs and all(r.get("source") == V2_SOURCE for r in rs) for rs in per_file):
            check_languages(records)
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
        if rec["source"] == V2_SOURCE:  # a file that says it is MORBench-lite v2 must be valid v2
            check_v2_record(r, f"{path}:{n}")
        for key in ("twin", "adaptation", "note"):
            if key in r:
                rec[key] = r[key]
        records.append(rec)
    return records


def check_v2_record(r: dict, where: str) -> dict:
    """A v2 record's fields, order, label, category, twin and adaptation; `where` is "file:line".
    Records of other sources (v1 files, users' sets) pass unchanged."""
    if r.get("source") != V2_SOURCE:
        return r
    for key in ("id", "item", "lang", "prompt", "label", "category", "adaptation"):
        if not isinstance(r.get(key), str) or not r[key].strip():
            raise InputError(f"{where}: v2 record has no '{key}' (every {V2_SOURCE} record needs it)")
    label, category = r["label"], r["category"]
    if label not in LABELS:
        raise InputError(f"{where}: label {label!r} is not one of {', '.join(LABELS)}")
    if category not in CATEGORIES[label]:
        raise InputError(f"{where}: unknown {label} category {category!r}; known: {', '.join(CATEGORIES[label])}")
    twin = r.get("twin")
    if label == "harmful" and twin is not None and twin not in CATEGORIES["benign_sensitive"]:
        raise InputError(f"{where}: twin {twin!r} is not a benign_sensitive category")
    if label != "harmful" and twin is not None:
        raise InputError(f"{where}: only harmful records have a twin; set it to null")
    if r["adaptation"] not in ADAPTATIONS:
        raise InputError(f"{where}: adaptation {r['adaptation']!r} is not one of {', '.join(ADAPTATIONS)}")
    if r["adaptation"] == "localised" and not str(r.get("note") or "").strip():
        raise InputError(f"{where}: a localised record needs a 'note' saying what was replaced and why")
    if r["id"] != f"{r['lang']}-{r['item']}":
        raise InputError(f"{where}: id {r['id']!r} should be {r['lang']}-{r['item']}")
    order = [k for k in V2_FIELDS if k in r]
    if list(r) != order:
        extra = [k for k in r if k not in V2_FIELDS]
        raise InputError(f"{where}: " + (f"unknown field {extra[0]!r}" if extra else
                                          f"fields out of order; expected {', '.join(order)}"))
    return r


def check_languages(records: list[dict], reference: str = "en") -> None:
    """Every item in every language of LANGS present in `records`, with the reference language's label,
    category and twin, and no language with items the reference lacks. One InputError naming the
    item, language and field on the first disagreement."""
    by_lang: dict[str, dict[str, dict]] = defaultdict(dict)
    for r in records:
        if r["item"] in by_lang[r["lang"]]:
            raise InputError(f"item {r['item']}: appears twice in {r['lang']}")
        by_lang[r["lang"]][r["item"]] = r
    if reference not in by_lang:
        raise InputError(f"no {reference} records to check the other languages against")
    ref = by_lang[reference]
    for lang in LANGS:
        if lang not in by_lang:
            raise InputError(f"language {lang}: no records (every language needs all {len(ref)} items)")
        mine = by_lang[lang]
        for item, r in ref.items():
            if item not in mine:
                raise InputError(f"item {item}: missing in {lang}")
            for key in ("label", "category", "twin"):
                if mine[item].get(key) != r.get(key):
                    raise InputError(f"item {item}: {key} is {mine[item].get(key)!r} in {lang} "
                                     f"but {r.get(key)!r} in {reference}")
        extra = sorted(mine.keys() - ref.keys())
        if extra:
            raise InputError(f"item {extra[0]}: in {lang} but not in {reference}")


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
    categories, so languages compare pair by pair. Only items present in all three with the same
    label are drawn (they all are once the languages agree; see `check_languages`)."""
    labels = defaultdict(dict)
    for r in records:
        if r["lang"] in QUICK_LANGS:
            labels[r["lang"]][r["item"]] = r["label"]
    by_label: dict[str, list[str]] = defaultdict(list)
    for item, label in labels["en"].items():
        if all(labels[lang].get(item) == label for lang in QUICK_LANGS):
            by_label[label].append(item)
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
