"""Text charts and tables for the panes (rich renderables; no new dependency)."""

from __future__ import annotations

import numpy as np
from rich.table import Table
from rich.text import Text


def pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def headline_table(summary: dict) -> Table:
    table = Table("lang", "overrefusal", "full only", "harmful refused", "control refused", box=None,
                  title=f"{summary['n']} records (refused = refuse or partial)")
    for lang, h in summary["headline"].items():
        table.add_row(lang, *(f"{pct(h[k]['rate'])} {h[k]['k']}/{h[k]['n']}" if k in h else "" for k in
                              ("overrefusal", "overrefusal_full_only", "harmful_refusal", "control_refusal")))
    return table


def lang_bars(summary: dict, width: int = 30) -> Text:
    """Per language and label: refuse █, partial ▒ (as in report.md)."""
    out = Text()
    for lang, labels in summary["by_lang"].items():
        if lang == "all":
            continue
        for label, c in labels.items():
            full, part = int(round(width * c["refuse"]["rate"])), int(round(width * c["partial"]["rate"]))
            out.append(f"{lang:>3} {label:<16} ")
            out.append("█" * full, "red")
            out.append("▒" * part, "yellow")
            out.append(" " * (width - full - part) + f" {pct(c['refuse_or_partial']['rate'])}\n")
    return out


def compare_table(comparison: dict, a: str, b: str) -> Table:
    table = Table("lang", "label", "pairs", "A", "B", "B − A", "only A", "only B", "McNemar p", box=None,
                  title=f"A {a}  vs  B {b}")
    for lang, labels in comparison.items():
        for label, c in labels.items():
            table.add_row(lang, label, str(c["n_pairs"]), pct(c["refused_a"]), pct(c["refused_b"]),
                          f"{100 * c['difference']:+.1f} pt", str(c["only_a"]), str(c["only_b"]), f"{c['mcnemar_p']:.4f}")
    return table


def layer_chart(layers: list[dict], chosen: int, width: int = 40) -> Text:
    """Validation AUROC by layer as bars (0.5 → empty, 1 → full), the chosen layer marked ◀."""
    out = Text()
    for s in layers:
        fill = int(round(width * max(0.0, (s["auroc"] - 0.5) * 2)))
        style = "bold green" if s["layer"] == chosen else ("cyan" if s.get("eligible", True) else "dim")
        out.append(f"{s['layer']:>3} ")
        out.append("█" * fill, style)
        out.append(" " * (width - fill) + f" {s['auroc']:.3f} d {s['cohens_d']:.1f}")
        out.append(" ◀ chosen\n" if s["layer"] == chosen else "\n")
    return out


def histogram(groups: dict[str, np.ndarray], marks: dict[str, float] | None = None, bins: int = 24,
              height: int = 6) -> Text:
    """Side-by-side counts of each group in shared bins, one row per group, with marked values."""
    values = np.concatenate([np.asarray(v, float) for v in groups.values() if len(v)])
    if not len(values):
        return Text("no values")
    lo, hi = float(values.min()), float(values.max())
    for m in (marks or {}).values():
        lo, hi = min(lo, m), max(hi, m)
    edges = np.linspace(lo, hi + 1e-9, bins + 1)
    blocks = " ▁▂▃▄▅▆▇█"
    out = Text()
    styles = ["red", "green", "cyan", "yellow"]
    for (name, v), style in zip(groups.items(), styles):
        counts, _ = np.histogram(np.asarray(v, float), edges)
        top = max(1, counts.max())
        out.append(f"{name:>10} ")
        out.append("".join(blocks[int(round(8 * c / top))] for c in counts), style)
        out.append(f" n={len(v)}\n")
    axis = [" "] * bins
    for name, m in (marks or {}).items():
        axis[min(bins - 1, int((m - lo) / (hi - lo + 1e-9) * bins))] = "|"
    out.append(" " * 11 + "".join(axis) + "  " + ", ".join(f"| {k} {v:+.2f}" for k, v in (marks or {}).items()) + "\n")
    out.append(" " * 11 + f"{lo:+.2f}".ljust(bins - 5) + f"{hi:+.2f}\n")
    return out
