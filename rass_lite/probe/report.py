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
    bs = meta.get("behaviour_score")
    if bs and bs.get("val"):
        lines += ["The model's own refusals on the val split, AUROC of each signal (behaviour = projection + "
                  "first-token P(refuse), fitted on the train split):", "",
                  "| prompts | refused | projection | first token | behaviour |", "|---|---:|---:|---:|---:|"]
        for within, v in bs["val"].items():
            cells = " | ".join("" if v[k] is None else f"{v[k]:.3f}" for k in ("projection", "first_token", "behaviour"))
            lines.append(f"| {within} | {v['refused']}/{v['n']} | {cells} |")
        lines.append("")
    langs = list(rows[0].get("per_language") or {})
    head = "worst AUROC" if langs else "val AUROC"
    lines += [f"| layer | {head} | " + "".join(f"{lang} | " for lang in langs) + "Cohen's d | behaviour AUROC | norm | eligible |",
              "|---:|---:|" + "---:|" * len(langs) + "---:|---:|---:|:---:|"]
    for r in rows:
        b = "" if r["behaviour_auroc"] is None else f"{r['behaviour_auroc']:.3f}"
        mark = " ←" if r["layer"] == meta["layer"] else ""
        per = "".join(f"{r['per_language'][lang]:.3f} | " for lang in langs)
        lines.append(f"| {r['layer']}{mark} | {r['auroc']:.3f} | {per}{r['cohens_d']:.2f} | {b} | {r['norm']:.2f} | {'yes' if r['eligible'] else 'no'} |")
    lines += ["", "Separation by layer (Cohen's d):", "", "```"]
    top = max(abs(r["cohens_d"]) for r in rows if np.isfinite(r["cohens_d"])) or 1.0
    for r in rows:
        d = r["cohens_d"] if np.isfinite(r["cohens_d"]) else top
        lines.append(f"{r['layer']:>3} {'#' * int(round(40 * max(d, 0) / top)):<40} {d:6.2f}")
    lines += ["```", ""]
    return "\n".join(lines)
