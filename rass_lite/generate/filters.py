"""Candidate filters. Each `check_*` returns a reason string when the candidate must go, else None;
`apply_filters` runs them all in a fixed order and says why each dropped candidate went.

Reasons, in the order they are checked:
  empty                 nothing left after stripping whitespace
  too_long              more than `max_chars` characters (after stripping)
  wrong_script          too small a share of the text is in the language's script (see SCRIPT_RULES)
  copies_seed           normalised text equals a seed prompt's
  copies_reference      normalised text equals, or its character 3-grams have Jaccard >= REFERENCE_JACCARD
                        with, a reference prompt (MORBench-lite and the probe sets by default)
  duplicate             the same text (after stripping) as a candidate kept earlier
  duplicate_normalised  the same normalised text as a candidate kept earlier

Normalised text (`normalise`): NFKC, casefold, Arabic harakat and tatweel removed, and every
punctuation, separator, control/format character and whitespace removed.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from functools import lru_cache
from importlib import resources
from typing import Iterable

from ..errors import InputError
from ..records import iter_jsonl

DEFAULT_MAX_CHARS = 300
# Share of script units (see `script_units`) that must be in the expected script.
SCRIPT_SHARE = 0.5
# Character-3-gram Jaccard at or above which a candidate counts as a copy of a reference prompt.
REFERENCE_JACCARD = 0.6

REASONS = ("empty", "too_long", "wrong_script", "copies_seed", "copies_reference", "duplicate", "duplicate_normalised")

# lang -> (scripts that count as "in the language", scripts of which at least one unit is required,
# scripts that must not appear at all)
SCRIPT_RULES: dict[str, tuple[frozenset, frozenset, frozenset]] = {
    "en": (frozenset({"latin"}), frozenset(), frozenset()),
    "es": (frozenset({"latin"}), frozenset(), frozenset()),
    "fr": (frozenset({"latin"}), frozenset(), frozenset()),
    "de": (frozenset({"latin"}), frozenset(), frozenset()),
    "ru": (frozenset({"cyrillic"}), frozenset(), frozenset()),
    "ar": (frozenset({"arabic"}), frozenset(), frozenset()),
    "zh": (frozenset({"han"}), frozenset(), frozenset({"hiragana", "katakana"})),
    "ja": (frozenset({"han", "hiragana", "katakana"}), frozenset({"hiragana", "katakana"}), frozenset()),
}

_ARABIC_STRIP = {chr(c) for c in range(0x064B, 0x0660)} | {"\u0670", "\u0640"}
# Scripts written one unit per character (no spaces between words).
_PER_CHAR = {"han", "hiragana", "katakana", "hangul"}


def script_of(ch: str) -> str | None:
    """The script of a letter, or None for anything that is not a letter."""
    if not unicodedata.category(ch).startswith("L"):
        return None
    o = ord(ch)
    if o < 0x0250 or 0x1E00 <= o <= 0x1EFF or 0x2C60 <= o <= 0x2C7F or 0xA720 <= o <= 0xA7FF or 0xFF21 <= o <= 0xFF5A:
        return "latin"
    if 0x0370 <= o <= 0x03FF or 0x1F00 <= o <= 0x1FFF:
        return "greek"
    if 0x0400 <= o <= 0x052F or 0x1C80 <= o <= 0x1C8F or 0x2DE0 <= o <= 0x2DFF or 0xA640 <= o <= 0xA69F:
        return "cyrillic"
    if 0x0590 <= o <= 0x05FF:
        return "hebrew"
    if 0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F or 0x08A0 <= o <= 0x08FF or 0xFB50 <= o <= 0xFDFF or 0xFE70 <= o <= 0xFEFF:
        return "arabic"
    if 0x3040 <= o <= 0x309F:
        return "hiragana"
    if 0x30A0 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9F:
        return "katakana"
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3FFFF or o in (0x3005, 0x3007):
        return "han"
    if 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
        return "hangul"
    if 0x0900 <= o <= 0x0DFF:
        return "indic"
    return "other"


def script_units(text: str) -> Counter:
    """Script -> number of units: each Han/kana/Hangul character is one unit, each run of letters of
    an alphabetic script (a word) is one unit. Counting words, not letters, keeps a Latin product
    name inside a Chinese sentence ("Python", "Minecraft") from weighing as much as nine Han words."""
    units: Counter = Counter()
    prev = None
    for ch in unicodedata.normalize("NFKC", text):
        s = script_of(ch)
        if s is None:
            # Combining marks stay inside the word they belong to; anything else ends a word.
            if not unicodedata.category(ch).startswith("M"):
                prev = None
            continue
        if s in _PER_CHAR or s != prev:
            units[s] += 1
        prev = s
    return units


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(
        ch for ch in text
        if ch not in _ARABIC_STRIP and not ch.isspace() and unicodedata.category(ch)[0] not in "PZC"
    )


def trigrams(norm: str) -> frozenset:
    if len(norm) < 3:
        return frozenset({norm}) if norm else frozenset()
    return frozenset(norm[i : i + 3] for i in range(len(norm) - 2))


# --- single-candidate filters -------------------------------------------------------------------

def check_empty(prompt: str) -> str | None:
    return "empty" if not isinstance(prompt, str) or not prompt.strip() else None


def check_length(prompt: str, max_chars: int = DEFAULT_MAX_CHARS) -> str | None:
    return "too_long" if len(prompt.strip()) > max_chars else None


def check_script(prompt: str, lang: str) -> str | None:
    """wrong_script unless at least SCRIPT_SHARE of the script units are in the language's scripts,
    at least one unit is in a required script (kana for ja: Japanese sentences carry kana
    particles and endings, a kana-less all-Han question is Chinese), and no unit is in a forbidden
    script (kana for zh: it marks Japanese). Latin languages cannot be told apart by script; an
    English answer to a French request passes this filter."""
    if lang not in SCRIPT_RULES:
        raise InputError(f"no script rule for language {lang!r}; known: {', '.join(SCRIPT_RULES)}")
    expected, required, forbidden = SCRIPT_RULES[lang]
    units = script_units(prompt)
    total = sum(units.values())
    if total == 0:
        return "wrong_script"
    if sum(units[s] for s in expected) / total < SCRIPT_SHARE:
        return "wrong_script"
    if required and not any(units[s] for s in required):
        return "wrong_script"
    if any(units[s] for s in forbidden):
        return "wrong_script"
    return None


def check_seed_copy(prompt: str, seed_norms: set[str]) -> str | None:
    """copies_seed when the normalised prompt equals a seed's. Only equality: a rewrite that stays
    close to its seed is what the operators are asked for, so similarity is not a reason here."""
    return "copies_seed" if normalise(prompt) in seed_norms else None


class ReferenceIndex:
    """Reference prompts indexed by normalised text and by character 3-gram, for fast copy checks."""

    def __init__(self, references: Iterable, threshold: float = REFERENCE_JACCARD):
        self.threshold = threshold
        self.refs: list[dict] = []
        self.norms: dict[str, int] = {}
        self.grams: list[frozenset] = []
        self.postings: dict[str, list[int]] = {}
        for ref in references:
            rec = {"id": None, "prompt": ref} if isinstance(ref, str) else ref
            norm = normalise(rec["prompt"])
            if not norm:
                continue
            i = len(self.refs)
            self.refs.append(rec)
            self.norms.setdefault(norm, i)
            grams = trigrams(norm)
            self.grams.append(grams)
            for g in grams:
                self.postings.setdefault(g, []).append(i)

    def match(self, prompt: str) -> tuple[dict, float] | None:
        """(reference, similarity) of the closest reference at or above the threshold, else None."""
        norm = normalise(prompt)
        if norm in self.norms:
            return self.refs[self.norms[norm]], 1.0
        grams = trigrams(norm)
        if not grams:
            return None
        shared: Counter = Counter()
        for g in grams:
            for i in self.postings.get(g, ()):
                shared[i] += 1
        best, best_j = None, 0.0
        for i, inter in shared.items():
            j = inter / (len(grams) + len(self.grams[i]) - inter)
            if j > best_j:
                best, best_j = i, j
        if best is not None and best_j >= self.threshold:
            return self.refs[best], best_j
        return None


def check_reference_copy(prompt: str, index: ReferenceIndex) -> str | None:
    return "copies_reference" if index.match(prompt) else None


@lru_cache(maxsize=1)
def _packaged_references() -> tuple[dict, ...]:
    root = resources.files("rass_lite").joinpath("data")
    out = []
    for folder in ("morbench_lite", "probe"):
        for entry in sorted(root.joinpath(folder).iterdir(), key=lambda p: p.name):
            if not entry.name.endswith(".jsonl"):
                continue
            where = f"rass_lite/data/{folder}/{entry.name}"
            for _, rec in iter_jsonl(entry.read_text(encoding="utf-8"), where):
                out.append({"id": rec.get("id"), "prompt": rec["prompt"], "lang": rec.get("lang", "en"), "source": where})
    return tuple(out)


def reference_prompts() -> list[dict]:
    """Every prompt of the packaged MORBench-lite (all languages and labels) and probe sets:
    {id, prompt, lang, source}. Generated candidates must not copy these, so that the benchmark and
    the probe stay held out."""
    return [dict(r) for r in _packaged_references()]


@lru_cache(maxsize=4)
def packaged_reference_index(threshold: float = REFERENCE_JACCARD) -> ReferenceIndex:
    return ReferenceIndex(_packaged_references(), threshold)


# --- all filters -------------------------------------------------------------------------------

def apply_filters(
    candidates: Iterable[dict],
    *,
    seeds: Iterable = (),
    references: Iterable | ReferenceIndex | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> tuple[list[dict], dict[str, int], list[dict]]:
    """(kept, counts_by_reason, dropped). `seeds` and `references` are prompt strings or records with
    `prompt`; `references=None` means the packaged MORBench-lite and probe prompts. Every reason in
    REASONS has a count (0 when it never fired). A dropped record is a copy of the candidate with
    `filter_reason` (and, for copies_reference, `filter_match`: the reference id and similarity).
    The first of several duplicates is kept; a dropped candidate never blocks a later one."""
    if isinstance(references, ReferenceIndex):
        index = references
    elif references is None:
        index = packaged_reference_index()
    else:
        index = ReferenceIndex(references)
    seed_norms = {normalise(s if isinstance(s, str) else s["prompt"]) for s in seeds}
    kept: list[dict] = []
    dropped: list[dict] = []
    counts = {r: 0 for r in REASONS}
    seen_exact: set[str] = set()
    seen_norm: set[str] = set()
    for cand in candidates:
        prompt = cand.get("prompt")
        extra: dict = {}
        reason = check_empty(prompt)
        if reason is None:
            reason = check_length(prompt, max_chars) or check_script(prompt, cand.get("lang", "en")) or check_seed_copy(prompt, seed_norms)
        if reason is None:
            hit = index.match(prompt)
            if hit:
                reason = "copies_reference"
                extra = {"filter_match": {"id": hit[0].get("id"), "prompt": hit[0]["prompt"], "similarity": round(hit[1], 3)}}
        if reason is None:
            stripped, norm = prompt.strip(), normalise(prompt)
            if stripped in seen_exact:
                reason = "duplicate"
            elif norm in seen_norm:
                reason = "duplicate_normalised"
            else:
                seen_exact.add(stripped)
                seen_norm.add(norm)
        if reason is None:
            kept.append(cand)
        else:
            counts[reason] += 1
            dropped.append({**cand, "filter_reason": reason, **extra})
    return kept, counts, dropped
