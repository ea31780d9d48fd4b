"""Seed libraries (`generate/seeds/<lang>.json`) and `--seeds FILE` prompt records.

A library holds, per category, the sensitive words of that language, typed slot lists and frames
(templates) whose `{slot}` / `{slot.field}` placeholders are filled from those lists. A slot whose
items are objects is a typed tuple: every placeholder of that slot in one frame takes its fields from
the same item, so pairs such as (kill, a frozen Python process) stay together. Different slots in one
frame are crossed freely, so only put two slots in a frame when every combination makes sense. The
schema is documented in `generate/seeds/README.md`; the categories a library may use are listed in
`generate/seeds/categories.json`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..errors import InputError
from ..records import iter_jsonl, read_text

SCHEMA = 1
CATEGORIES_FILE = "categories.json"
# {slot} or {slot.field}; names are lower-case identifiers.
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)(?:\.([a-z][a-z0-9_]*))?\}")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Frame:
    id: str
    text: str
    slots: tuple[str, ...]  # distinct slot names in order of first use


@dataclass
class Category:
    name: str
    sensitive_words: list[str]
    slots: dict[str, list]  # slot -> list of str, or list of dict[str, str]
    frames: list[Frame]

    def fills(self):
        """(frame, {slot: item}, prompt) for every combination, in file order."""
        for frame in self.frames:
            pools = [self.slots[s] for s in frame.slots]
            for items in itertools.product(*pools):
                chosen = dict(zip(frame.slots, items))
                yield frame, chosen, render(frame.text, chosen)

    def distinct_prompts(self) -> list[str]:
        seen: dict[str, None] = {}
        for _, _, prompt in self.fills():
            seen.setdefault(prompt, None)
        return list(seen)


@dataclass
class SeedLibrary:
    lang: str
    path: str
    sha256: str
    categories: dict[str, Category] = field(default_factory=dict)


def render(text: str, chosen: dict) -> str:
    def sub(m: re.Match) -> str:
        item = chosen[m.group(1)]
        return item[m.group(2)] if m.group(2) else item

    return PLACEHOLDER.sub(sub, text)


def _seeds_dir():
    return resources.files("rass_lite").joinpath("generate/seeds")


def known_categories() -> dict[str, dict]:
    """The categories table (`categories.json`): name -> {label, description, operators}."""
    where = f"rass_lite/generate/seeds/{CATEGORIES_FILE}"
    try:
        data = json.loads(_seeds_dir().joinpath(CATEGORIES_FILE).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}:{exc.lineno}: invalid JSON ({exc.msg}); fix the categories table") from None
    cats = data.get("categories") if isinstance(data, dict) else None
    if not isinstance(cats, dict) or not cats:
        raise InputError(f"{where}: needs a non-empty object \"categories\"")
    for name, spec in cats.items():
        if not _NAME.match(name) or not isinstance(spec, dict):
            raise InputError(f"{where}: category {name!r} must be a snake_case name mapped to an object")
    return cats


def available_languages() -> list[str]:
    """Language codes that have a packaged seed library."""
    return sorted(
        p.name[: -len(".json")]
        for p in _seeds_dir().iterdir()
        if p.name.endswith(".json") and p.name != CATEGORIES_FILE
    )


def load_library(lang: str, path: str | Path | None = None) -> SeedLibrary:
    """The validated seed library of `lang`: the packaged one, or the file at `path`."""
    if path is None:
        langs = available_languages()
        if lang not in langs:
            raise InputError(f"no seed library for language {lang!r}; available: {', '.join(langs)}")
        where = f"rass_lite/generate/seeds/{lang}.json"
        raw = _seeds_dir().joinpath(f"{lang}.json").read_bytes()
    else:
        where = str(path)
        try:
            raw = Path(path).read_bytes()
        except FileNotFoundError:
            raise InputError(f"seed library not found: {path}") from None
        except OSError as exc:
            raise InputError(f"cannot read seed library {path}: {exc.strerror}") from None
    return parse_library(raw, where, lang)


def parse_library(raw: bytes, where: str, lang: str | None = None) -> SeedLibrary:
    """Validate the bytes of a seed library; every problem is one InputError naming `where`."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(f"{where}: not valid UTF-8; save the seed library as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}:{exc.lineno}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise InputError(f"{where}: a seed library is a JSON object with \"lang\" and \"categories\"")
    if data.get("schema", SCHEMA) != SCHEMA:
        raise InputError(f"{where}: schema {data.get('schema')!r} is not supported; this version reads schema {SCHEMA}")
    file_lang = data.get("lang")
    if not isinstance(file_lang, str) or not file_lang:
        raise InputError(f"{where}: field \"lang\" is missing; set it to the language code, e.g. \"en\"")
    if lang is not None and file_lang != lang:
        raise InputError(f"{where}: \"lang\" is {file_lang!r} but the library was loaded for {lang!r}")
    cats = data.get("categories")
    if not isinstance(cats, dict) or not cats:
        raise InputError(f"{where}: needs a non-empty object \"categories\" (category name -> frames and slots)")
    table = known_categories()
    library = SeedLibrary(file_lang, where, hashlib.sha256(raw).hexdigest())
    for name, spec in cats.items():
        if name not in table:
            raise InputError(
                f"{where}: unknown category {name!r}; known: {', '.join(table)} "
                f"(add new categories to rass_lite/generate/seeds/{CATEGORIES_FILE} first)"
            )
        library.categories[name] = _parse_category(spec, f"{where}: category {name!r}", name)
    return library


def _parse_category(spec, at: str, name: str) -> Category:
    if not isinstance(spec, dict):
        raise InputError(f"{at}: must be an object with \"sensitive_words\", \"slots\" and \"frames\"")
    unknown = set(spec) - {"sensitive_words", "slots", "frames", "notes"}
    if unknown:
        raise InputError(f"{at}: unknown field(s) {', '.join(sorted(unknown))}; allowed: sensitive_words, slots, frames, notes")
    words = spec.get("sensitive_words")
    if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
        raise InputError(f"{at}: \"sensitive_words\" must be a non-empty list of non-empty strings")
    slots_spec = spec.get("slots")
    if not isinstance(slots_spec, dict) or not slots_spec:
        raise InputError(f"{at}: \"slots\" must be a non-empty object (slot name -> list of fillers)")
    slots: dict[str, list] = {}
    fields: dict[str, set[str] | None] = {}
    for slot, items in slots_spec.items():
        sat = f"{at}, slot {slot!r}"
        if not _NAME.match(slot):
            raise InputError(f"{sat}: slot names are lower-case identifiers (letters, digits, _)")
        if not isinstance(items, list) or not items:
            raise InputError(f"{sat}: slot list is empty; give at least one filler")
        if all(isinstance(i, str) for i in items):
            if not all(i.strip() for i in items):
                raise InputError(f"{sat}: a filler is an empty string")
            fields[slot] = None
        elif all(isinstance(i, dict) for i in items):
            keys = set(items[0])
            for n, item in enumerate(items):
                if set(item) != keys or not keys:
                    raise InputError(f"{sat}: item {n} has fields {sorted(item)} but item 0 has {sorted(keys)}; typed items need the same fields")
                if not all(_NAME.match(k) and isinstance(v, str) and v.strip() for k, v in item.items()):
                    raise InputError(f"{sat}: item {n}: fields must be identifiers with non-empty string values")
            fields[slot] = keys
        else:
            raise InputError(f"{sat}: fillers must be all strings or all objects (typed tuples)")
        if len({json.dumps(i, sort_keys=True, ensure_ascii=False) for i in items}) != len(items):
            raise InputError(f"{sat}: a filler appears twice")
        slots[slot] = items
    frames_spec = spec.get("frames")
    if not isinstance(frames_spec, list) or not frames_spec:
        raise InputError(f"{at}: \"frames\" must be a non-empty list of {{\"id\", \"text\"}} objects")
    frames: list[Frame] = []
    ids: set[str] = set()
    used: set[str] = set()
    for n, f in enumerate(frames_spec):
        if not isinstance(f, dict) or not isinstance(f.get("id"), str) or not isinstance(f.get("text"), str) or not f["text"].strip():
            raise InputError(f"{at}, frame {n}: needs string fields \"id\" and \"text\"")
        fat = f"{at}, frame {f['id']!r}"
        if f["id"] in ids:
            raise InputError(f"{fat}: frame id appears twice")
        ids.add(f["id"])
        text = f["text"]
        if "{" in PLACEHOLDER.sub("", text) or "}" in PLACEHOLDER.sub("", text):
            raise InputError(f"{fat}: stray brace in {text!r}; placeholders look like {{slot}} or {{slot.field}}")
        order: list[str] = []
        for m in PLACEHOLDER.finditer(text):
            slot, fld = m.group(1), m.group(2)
            if slot not in slots:
                raise InputError(f"{fat}: uses slot {slot!r}, which does not exist; slots: {', '.join(slots)}")
            if fields[slot] is None and fld:
                raise InputError(f"{fat}: {m.group(0)} asks for a field, but slot {slot!r} holds plain strings; write {{{slot}}}")
            if fields[slot] is not None and not fld:
                raise InputError(f"{fat}: slot {slot!r} holds typed items; name a field: {', '.join('{' + slot + '.' + k + '}' for k in sorted(fields[slot]))}")
            if fld and fld not in fields[slot]:
                raise InputError(f"{fat}: slot {slot!r} has no field {fld!r}; fields: {', '.join(sorted(fields[slot]))}")
            if slot not in order:
                order.append(slot)
        if not order:
            raise InputError(f"{fat}: uses no slot; a frame needs at least one {{slot}}")
        used.update(order)
        frames.append(Frame(f["id"], text, tuple(order)))
    unused = [s for s in slots if s not in used]
    if unused:
        raise InputError(f"{at}: slot(s) {', '.join(unused)} are used by no frame; remove them or add a frame")
    return Category(name, list(words), slots, frames)


def load_seed_file(path: str | Path, *, refused_only: bool = False) -> list[dict]:
    """Seed prompt records for `--seeds FILE`: JSON lines with a non-empty `prompt` and a `lang` that has
    a seed library (any prompt records, e.g. the rows of a bench run's results.jsonl). With
    `refused_only`, keep rows whose `refusal` is refuse or partial. Each record gets an `id` if missing."""
    path = Path(path)
    text = read_text(path)
    langs = available_languages()
    records: list[dict] = []
    n_lines = 0
    for line_no, record in iter_jsonl(text, path):
        n_lines += 1
        prompt = record.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise InputError(f"{path}:{line_no}: field \"prompt\" is missing or empty; every seed line needs a non-empty \"prompt\"")
        lang = record.get("lang")
        if not isinstance(lang, str) or not lang:
            raise InputError(f"{path}:{line_no}: field \"lang\" is missing; add the language code, e.g. \"lang\": \"en\"")
        if lang not in langs:
            raise InputError(f"{path}:{line_no}: unknown language {lang!r}; seeds can be in {', '.join(langs)}")
        if refused_only and record.get("refusal") not in ("refuse", "partial"):
            continue
        record = dict(record)
        record["id"] = str(record.get("id", f"{path.stem}-{line_no}"))
        records.append(record)
    if n_lines == 0:
        raise InputError(f"{path}:1: no seed prompts (the file is empty); give JSON lines with \"prompt\" and \"lang\"")
    if not records:
        raise InputError(f"{path}: none of the {n_lines} rows was refused (field \"refusal\" refuse/partial); nothing to seed from")
    return records
