"""The probe's report.md: per-layer table, a text chart of separation by layer, refusal counts."""

from __future__ import annotations

import numpy as np


def render_report(meta: dict) -> str:
    rows = meta["layers"]
    lines = [
        f"# Probe report: {meta['model']}",
        "",
        f"Chosen layer **{meta['layer']}** · boundary: {meta['boundary']['method']} "
        f"(threshold {meta['boundary']['threshold']:.3f} on the unit direction)",
        "",
    ]
    if meta["refusal_counts"]:
        c = meta["refusal_counts"]
        lines += [f"Refusals (greedy, first {meta['behaviour_max_tokens']} tokens): harmful {c['harmful_refused']}/{c['harmful_total']}, "
                  f"harmless {c['harmless_refused']}/{c['harmless_total']}", ""]
    lines += ["| layer | val AUROC | Cohen's d | behaviour AUROC | norm | eligible |", "|---:|---:|---:|---:|---:|:---:|"]
    for r in rows:
        b = "" if r["behaviour_auroc"] is None else f"{r['behaviour_auroc']:.3f}"
        mark = " ←" if r["layer"] == meta["layer"] else ""
        lines.append(f"| {r['layer']}{mark} | {r['auroc']:.3f} | {r['cohens_d']:.2f} | {b} | {r['norm']:.2f} | {'yes' if r['eligible'] else 'no'} |")
    lines += ["", "Separation by layer (Cohen's d):", "", "```"]
    top = max(abs(r["cohens_d"]) for r in rows if np.isfinite(r["cohens_d"])) or 1.0
    for r in rows:
        d = r["cohens_d"] if np.isfinite(r["cohens_d"]) else top
        lines.append(f"{r['layer']:>3} {'#' * int(round(40 * max(d, 0) / top)):<40} {d:6.2f}")
    lines += ["```", ""]
    return "\n".join(lines)
