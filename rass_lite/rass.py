"""RASS end to end: generate -> search -> select -> verify on one target, as recorded steps in one
folder, then the boundary set and its report.

    DIR/pool/              the generate run (every candidate and its scores, dropped ones with reasons)
    DIR/select/            the select run (selected candidates: flip scale, answer, label, verdict)
    DIR/boundary-set.jsonl the verified-benign selection in MORBench format (`bench --set` takes it)
    DIR/report.md          score histograms of pool and selection, yield per language and category,
                           filter counts, cost per stage
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .generate.step import GenerateSpec, Pool, run_generate
from .probe import Probe
from .records import atomic_open, sha256_file, write_jsonl
from .runs import RESULTS
from .refusal import is_refused
from .select.step import run_select

SOURCE = "rass-lite-rass"
PROVENANCE = ("seed", "operator", "generator", "generator_sha256", "round", "parent", "rng_seed")


@dataclass
class RassResult:
    pool: Pool
    selected: list[dict]
    boundary_set: list[dict]
    seconds: dict[str, float] = field(default_factory=dict)


def run_rass(target, probe: Probe, folder: str | Path, generate_spec: GenerateSpec, select_spec_for, *,
             generator=None, judge=None, seed_records=None, progress=None, should_stop=lambda: False) -> RassResult:
    """`select_spec_for(pool_folder, pool_sha256)` builds the SelectSpec once the pool exists (its
    sha256 is part of the spec)."""
    folder = Path(folder)
    seconds = {}
    t = time.perf_counter()
    pool = run_generate(target, probe, generate_spec, folder / "pool", generator=generator,
                        seed_records=seed_records, progress=progress, should_stop=should_stop)
    seconds["generate + search"] = time.perf_counter() - t
    pool_sha = sha256_file(folder / "pool" / RESULTS)  # the pool this very call recorded
    t = time.perf_counter()
    spec = select_spec_for(str(folder / "pool"), pool_sha)
    selected = run_select(target, probe, folder / "pool", spec, folder / "select", judge=judge,
                          progress=progress, should_stop=should_stop)
    seconds["select + verify"] = time.perf_counter() - t
    boundary = boundary_set(selected)
    write_jsonl(folder / "boundary-set.jsonl", boundary)
    result = RassResult(pool, selected, boundary, seconds)
    with atomic_open(folder / "report.md") as f:
        f.write(render_report(result, target.name))
    return result


def boundary_set(selected: list[dict]) -> list[dict]:
    """The selected prompts a judge did not call harmful, as MORBench-format records."""
    out = []
    for r in selected:
        if r.get("benign") == "harmful":
            continue
        out.append({"id": r["id"], "item": r["id"], "lang": r["lang"], "prompt": r["prompt"],
                    "label": "benign_sensitive", "category": r.get("category") or "", "source": SOURCE,
                    "score": r["score"], "p_refuse": r["p_refuse"], "projection": r["projection"],
                    "flip_scale": r.get("flip_scale"), "response": r.get("response"), "refusal": r.get("refusal"),
                    "benign": r.get("benign"), "needs_review": r.get("needs_review", True),
                    "provenance": {k: r.get(k) for k in PROVENANCE}})
    return out


def _histogram(scores: list[float], lo: float = -8, hi: float = 8, bins: int = 16) -> list[str]:
    counts, edges = np.histogram(np.clip(scores, lo, hi), bins=bins, range=(lo, hi))
    top = max(int(counts.max()), 1)
    return [f"{edges[i]:+5.1f} {'#' * int(round(30 * c / top)):<30} {c}" for i, c in enumerate(counts)]


def render_report(result: RassResult, target: str) -> str:
    pool = list(result.pool.candidates.values())
    scored = [c["score"] for c in pool if c.get("score") is not None]
    chosen = [r["score"] for r in result.selected]
    lines = [f"# RASS report: {target}", "",
             f"Pool: {len(pool)} candidates ({len(scored)} with a behaviour score), {len(result.pool.dropped)} dropped "
             f"by filters; selected {len(result.selected)}, boundary set {len(result.boundary_set)}.", "",
             "## Behaviour score (logit of P(refuse): projection + first-token probability), pool", "", "```", *_histogram(scored), "```", "",
             "## Behaviour score, selection", "", "```", *_histogram(chosen), "```", "",
             "## Yield (verified benign and refused: refuse or partial)", "",
             "| lang | category | selected | benign | refused | yield |", "|---|---|---:|---:|---:|---:|"]
    groups: dict = {}
    for r in result.selected:
        groups.setdefault((r["lang"], r.get("category") or ""), []).append(r)
    for (lang, cat), rows in sorted(groups.items()):
        benign = [r for r in rows if r.get("benign") != "harmful"]
        refused = [r for r in benign if is_refused(r.get("refusal") or "comply")]
        lines.append(f"| {lang} | {cat} | {len(rows)} | {len(benign)} | {len(refused)} | "
                     f"{len(refused) / len(rows):.0%} |")
    counts = result.pool.filter_counts()
    lines += ["", "## Filters", "", *(f"- {k}: {v}" for k, v in sorted(counts.items())), "",
              "## Operators (bandit)", ""]
    for lang, ops in result.pool.bandit.items():
        cells = [f"{op} ×{v['pulls']}" + ("" if v["mean_reward"] is None else f" (mean reward {v['mean_reward']:.2f})")
                 for op, v in ops.items()]
        lines.append(f"- {lang}: " + ", ".join(cells))
    for lang, count in result.pool.full.items():
        lines.append(f"- {lang}: not searched (the band already held {count} candidates)")
    benign_counts = Counter(r.get("benign") for r in result.selected)
    lines += ["", "## Benignness verdicts", "", *(f"- {k}: {v}" for k, v in sorted(benign_counts.items(), key=str)),
              "", "## Cost (this session)", "", *(f"- {k}: {v:.0f} s" for k, v in result.seconds.items()), ""]
    return "\n".join(lines)
