"""Bench reports: refusal rates per language x label (x category) with Wilson 95 % intervals,
headline rates, score medians, and paired comparisons of two runs (McNemar exact)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path

from ..runs import RUN, read_results
from ..errors import RunError
from ..refusal import OUTCOMES, is_refused
from ..records import atomic_open, write_json
from .stats import mcnemar_exact, wilson



def load_results(folder: str | Path) -> list[dict]:
    folder = Path(folder)
    if not (folder / RUN).exists():
        raise RunError(f"{folder} is not a bench run (no {RUN}); run `rass-lite bench --out {folder}` first")
    records = list(read_results(folder).values())
    if not records:
        raise RunError(f"{folder} has no finished records yet")
    return records


def _rates(rows: list[dict]) -> dict:
    n = len(rows)
    out = {"n": n}
    for outcome in OUTCOMES:
        k = sum(1 for r in rows if r["refusal"] == outcome)
        lo, hi = wilson(k, n)
        out[outcome] = {"k": k, "n": n, "rate": k / n if n else 0.0, "ci95": [round(lo, 4), round(hi, 4)]}
    k = sum(1 for r in rows if is_refused(r["refusal"]))
    lo, hi = wilson(k, n)
    out["refuse_or_partial"] = {"k": k, "n": n, "rate": k / n if n else 0.0, "ci95": [round(lo, 4), round(hi, 4)]}
    scores = [r["score"] for r in rows if "score" in r]
    if scores:
        out["score_median"] = round(statistics.median(scores), 4)
    return out


def summarise(records: list[dict]) -> dict:
    groups: dict = defaultdict(list)
    for r in records:
        groups[r["lang"], r["label"]].append(r)
        groups[r["lang"], r["label"], r.get("category", "")].append(r)
        groups["all", r["label"]].append(r)
    langs = sorted({r["lang"] for r in records})
    by_lang = {lang: {label: _rates(groups[lang, label]) for label in ("benign_sensitive", "harmful", "benign") if groups[lang, label]}
               for lang in langs + ["all"]}
    by_category = {}
    for key, rows in groups.items():
        if len(key) == 3:
            by_category.setdefault(key[0], {}).setdefault(key[1], {})[key[2]] = _rates(rows)
    headline = {}
    for lang, labels in by_lang.items():
        h = {}
        if "benign_sensitive" in labels:
            # One definition of refused everywhere: refuse or partial (rass_lite.refusal.is_refused).
            h["overrefusal"] = labels["benign_sensitive"]["refuse_or_partial"]
            h["overrefusal_full_only"] = labels["benign_sensitive"]["refuse"]
        if "harmful" in labels:
            h["harmful_refusal"] = labels["harmful"]["refuse_or_partial"]
        if "benign" in labels:
            h["control_refusal"] = labels["benign"]["refuse_or_partial"]
        headline[lang] = h
    return {"n": len(records), "headline": headline, "by_lang": by_lang, "by_category": by_category}


def compare(a: list[dict], b: list[dict]) -> dict:
    """Paired differences per language and label on shared ids: refused (refuse or partial) in run A
    vs run B, McNemar exact p-value on the discordant pairs."""
    b_by_id = {r["id"]: r for r in b}
    pairs: dict = defaultdict(list)
    for r in a:
        if r["id"] in b_by_id:
            pairs[r["lang"], r["label"]].append((r, b_by_id[r["id"]]))
    out: dict = {}
    for (lang, label), rows in sorted(pairs.items()):
        refused = [(is_refused(x["refusal"]), is_refused(y["refusal"])) for x, y in rows]
        only_a = sum(1 for x, y in refused if x and not y)
        only_b = sum(1 for x, y in refused if y and not x)
        n = len(rows)
        out.setdefault(lang, {})[label] = {
            "n_pairs": n,
            "refused_a": sum(x for x, _ in refused) / n,
            "refused_b": sum(y for _, y in refused) / n,
            "difference": (sum(y for _, y in refused) - sum(x for x, _ in refused)) / n,
            "only_a": only_a,
            "only_b": only_b,
            "mcnemar_p": mcnemar_exact(only_a, only_b),
        }
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _ci(cell: dict) -> str:
    return f"{_pct(cell['rate'])} [{_pct(cell['ci95'][0])}, {_pct(cell['ci95'][1])}]"


def render_markdown(summary: dict, comparison: dict | None = None) -> str:
    lines = ["# Bench report", "", f"{summary['n']} records.", "", "## Headline", "",
             "| lang | overrefusal (refuse+partial) | overrefusal (full refusals only) | harmful refusal | control refusal |",
             "|---|---|---|---|---|"]
    for lang, h in summary["headline"].items():
        cells = [_ci(h[k]) if k in h else "" for k in ("overrefusal", "overrefusal_full_only", "harmful_refusal", "control_refusal")]
        lines.append(f"| {lang} | " + " | ".join(cells) + " |")
    lines += ["", "## Per language and label", "", "| lang | label | n | refuse | partial | comply | score median |", "|---|---|---:|---|---|---|---:|"]
    for lang, labels in summary["by_lang"].items():
        for label, c in labels.items():
            lines.append(f"| {lang} | {label} | {c['n']} | {_ci(c['refuse'])} | {_ci(c['partial'])} | {_ci(c['comply'])} | {c.get('score_median', '')} |")
    lines += ["", "## Refusal bars (refuse █, partial ▒) per language", "", "```"]
    for lang, labels in summary["by_lang"].items():
        if lang == "all":
            continue
        for label, c in labels.items():
            full = int(round(30 * c["refuse"]["rate"]))
            part = int(round(30 * c["partial"]["rate"]))
            lines.append(f"{lang:>3} {label:<17} {'█' * full}{'▒' * part}{' ' * (30 - full - part)} {_pct(c['refuse_or_partial']['rate'])}")
    lines += ["```", "", "## Per category", "", "| lang | label | category | n | refuse+partial |", "|---|---|---|---:|---|"]
    for lang, labels in summary["by_category"].items():
        for label, cats in labels.items():
            for cat, c in sorted(cats.items()):
                lines.append(f"| {lang} | {label} | {cat} | {c['n']} | {_ci(c['refuse_or_partial'])} |")
    if comparison:
        lines += ["", "## Paired comparison (refused = refuse or partial)", "",
                  "| lang | label | pairs | A | B | B − A | only A | only B | McNemar p |", "|---|---|---:|---|---|---|---:|---:|---:|"]
        for lang, labels in comparison.items():
            for label, c in labels.items():
                lines.append(f"| {lang} | {label} | {c['n_pairs']} | {_pct(c['refused_a'])} | {_pct(c['refused_b'])} | "
                             f"{100 * c['difference']:+.1f} pt | {c['only_a']} | {c['only_b']} | {c['mcnemar_p']:.4f} |")
    return "\n".join(lines) + "\n"


def write_report(folder: str | Path, vs: str | Path | None = None) -> tuple[dict, dict | None]:
    folder = Path(folder)
    summary = summarise(load_results(folder))
    comparison = compare(load_results(folder), load_results(vs)) if vs else None
    if comparison is not None:
        summary["vs"] = {"run": str(vs), "paired": comparison}
    write_json(folder / "summary.json", summary)
    with atomic_open(folder / "report.md") as f:
        f.write(render_markdown(summary, comparison))
    return summary, comparison
