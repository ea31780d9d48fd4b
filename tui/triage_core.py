"""Triage without widgets: read prompts from any input the TUI takes, guess a record's language
from its script when it says none, answer + label + score one prompt, and write marked rows as a
MORBench-format set. (Candidates to move into rass_lite; the CLI has no triage command yet.)"""

from __future__ import annotations

import re
from contextlib import nullcontext
from pathlib import Path

from rass_lite.errors import InputError

_WORDS = {
    "es": {"el", "la", "los", "las", "de", "que", "cómo", "como", "para", "por", "una", "un", "es", "en", "qué", "puedo"},
    "fr": {"le", "la", "les", "des", "est", "une", "un", "comment", "pour", "que", "je", "quoi", "du", "dans", "pourquoi"},
    "de": {"der", "die", "das", "und", "ist", "wie", "ich", "ein", "eine", "nicht", "kann", "was", "mit", "für"},
    "en": {"the", "a", "an", "is", "how", "what", "do", "i", "to", "of", "and", "can", "you", "my", "for", "in"},
}


def detect_lang(text: str) -> str:
    """A language code from the script (zh, ja, ru, ar), else from common words (es, fr, de, en)."""
    if re.search(r"[\u3040-\u30ff]", text):
        return "ja"
    if re.search(r"[\u4e00-\u9fff]", text):
        return "zh"
    if re.search(r"[\u0400-\u04ff]", text):
        return "ru"
    if re.search(r"[\u0600-\u06ff]", text):
        return "ar"
    words = re.findall(r"[a-zà-ÿß]+", text.lower())
    if re.search(r"[¿¡ñ]", text):
        return "es"
    counts = {lang: sum(w in vocab for w in words) for lang, vocab in _WORDS.items()}
    best = max(counts, key=lambda k: (counts[k], k == "en"))
    return best if counts[best] else "en"


def with_langs(records: list[dict]) -> list[dict]:
    return [{**r, "lang": r.get("lang") or detect_lang(r["prompt"])} for r in records]


def read_input(path: str | Path) -> list[dict]:
    """Prompt records from .txt, .jsonl (a run's results.jsonl too) or .csv; errors name the line."""
    from rass_lite.bench.datasets import load_set
    from rass_lite.records import read_prompts

    path = Path(path)
    if path.suffix == ".csv":
        records, _ = load_set(str(path), label="benign_sensitive")
    elif path.suffix in (".txt", ".jsonl"):
        records = read_prompts(path, default_lang="")
    else:
        raise InputError(f"{path}: unknown prompt file format {path.suffix!r}; use .txt, .jsonl or .csv")
    return with_langs(records)


def from_text(text: str, where: str = "pasted") -> list[dict]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise InputError("no prompts: give one prompt a line")
    return with_langs([{"id": f"{where}-{n}", "prompt": p} for n, p in enumerate(lines, 1)])


def triage_record(engine, probe, record: dict, *, max_tokens: int, band: float = 1.0) -> dict:
    """One row: the answer, its refusal label in the record's language, the first-token refusal
    probability and (with a probe) the boundary score, p_refuse and zone."""
    from rass_lite.backends.base import ActivationBackend
    from rass_lite.refusal.detect import detect_refusal
    from rass_lite.refusal.first_token import p_refuse_first_token
    from rass_lite.score import score_records

    row = dict(record)
    if probe is not None:
        (scored,) = score_records(engine, probe, [record], band=band)
        row.update(score=scored["score"], p_refuse=scored["p_refuse"], zone=scored["zone"])
    if isinstance(engine, ActivationBackend):
        row["p_first"] = round(p_refuse_first_token(engine, record["prompt"], row["lang"]), 4)
    row["response"] = engine.generate(record["prompt"], max_tokens=max_tokens)
    verdict = detect_refusal(record["prompt"], row["response"], row["lang"])
    row.update(refusal=verdict.label, refusal_reason=verdict.reason)
    return row


def ab_answers(engine, probe, record: dict, *, max_tokens: int, scale: float, mitigation=None) -> dict:
    """The answer without and with mitigation: a mitigation folder's decision and steering (as
    `rass-lite chat --mitigate`), else a global −scale on the probe's steering blocks."""
    from rass_lite.refusal.detect import detect_refusal

    prompt, lang = record["prompt"], record["lang"]
    why = f"global −{scale:g} on blocks {probe.steering_blocks[0]}-{probe.steering_blocks[1]}"
    steer = engine.steering(probe.vectors.directions, -scale, probe.steering_blocks)
    if mitigation is not None:
        (decision,) = mitigation.decide(engine, probe, [prompt], langs=[lang])
        why = f"{mitigation.mode} {mitigation.scale:g}: {'steered' if decision['steered'] else 'not steered'} ({decision['why']})"
        steer = mitigation.steering(engine, probe) if decision["steered"] else nullcontext()
    plain = record.get("response") or engine.generate(prompt, max_tokens=max_tokens)
    with steer:
        steered = engine.generate(prompt, max_tokens=max_tokens)
    return {"plain": plain, "plain_label": detect_refusal(prompt, plain, lang).label,
            "steered": steered, "steered_label": detect_refusal(prompt, steered, lang).label, "why": why}


def to_morbench(rows: list[dict], label: str = "benign_sensitive") -> list[dict]:
    """MORBench-format records (id, item, lang, prompt, label, category, source) of `rows`."""
    from rass_lite.bench.datasets import LABELS

    return [{"id": r["id"], "item": str(r.get("item", r["id"])), "lang": r["lang"], "prompt": r["prompt"],
             "label": r["label"] if r.get("label") in LABELS else label,
             "category": str(r.get("category", "") or "triage"), "source": "rass-lite-tui"} for r in rows]
