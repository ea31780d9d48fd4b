"""`rass-lite report`: rates with 95 % intervals, headline table, paired comparison of two runs."""

from __future__ import annotations

import json

from rich.table import Table

from ..bench.report import write_report
from .common import err, out


def register(sub) -> None:
    p = sub.add_parser("report", help="summarise a bench run (writes report.md and summary.json)")
    p.add_argument("rundir")
    p.add_argument("--vs", metavar="OTHER", help="another run: paired differences on shared ids (McNemar exact)")
    p.add_argument("--json", action="store_true", help="print summary.json")
    p.set_defaults(run=run)


def run(args) -> int:
    summary, comparison = write_report(args.rundir, args.vs)
    if args.json:
        out.print_json(json.dumps(summary))
        return 0
    print_headline(summary)
    if comparison:
        table = Table("lang", "label", "pairs", "A", "B", "B − A", "McNemar p", box=None, title="paired (refuse or partial)")
        for lang, labels in comparison.items():
            for label, c in labels.items():
                table.add_row(lang, label, str(c["n_pairs"]), f"{100 * c['refused_a']:.1f}%", f"{100 * c['refused_b']:.1f}%",
                              f"{100 * c['difference']:+.1f} pt", f"{c['mcnemar_p']:.4f}")
        out.print(table)
    err.print(f"wrote {args.rundir}/report.md and summary.json")
    return 0


HEADLINE = ("overrefusal", "overrefusal_full_only", "harmful_refusal", "control_refusal")


def print_headline(summary: dict) -> None:
    def cell(c: dict | None) -> str:
        if c is None:
            return ""
        return f"{100 * c['rate']:.0f}% [{100 * c['ci95'][0]:.0f}–{100 * c['ci95'][1]:.0f}] {c['k']}/{c['n']}"

    table = Table("lang", "overrefusal", "full refusals", "harmful refused", "control refused", box=None,
                  title="refusal rates, 95% Wilson intervals")
    for lang, h in summary["headline"].items():
        table.add_row(lang, *(cell(h.get(k)) for k in HEADLINE))
    out.print(table)
