"""`rass-lite datasets list|stats`."""

from __future__ import annotations

import json

from rich.table import Table

from ..bench.datasets import BUILTIN, LABELS, load_set, stats
from .common import out


def register(sub) -> None:
    parser = sub.add_parser("datasets", help="list shipped benchmark sets and their counts")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("list", help="the built-in sets")
    p.set_defaults(run=run_list)
    p = verbs.add_parser("stats", help="counts per language x label")
    p.add_argument("name", help="morbench-lite or a .jsonl/.csv/.txt file")
    p.add_argument("--label", help="label for files that do not carry one")
    p.add_argument("--lang", help="language code for files that do not carry one")
    p.add_argument("--json", action="store_true", help="print {lang: {label: count}}")
    p.set_defaults(run=run_stats)


def run_list(args) -> int:
    for name in BUILTIN:
        records, _ = load_set(name)
        langs = sorted({r["lang"] for r in records})
        out.print(f"{name}  {len(records)} prompts  languages: {' '.join(langs)}  labels: {' '.join(LABELS)}")
    return 0


def run_stats(args) -> int:
    records, _ = load_set(args.name, label=args.label, lang=args.lang)
    counts = stats(records)
    if args.json:
        out.print_json(json.dumps(counts))
        return 0
    table = Table("lang", *LABELS, "total", box=None)
    for lang, by_label in counts.items():
        table.add_row(lang, *(str(by_label.get(label, 0)) for label in LABELS), str(sum(by_label.values())))
    out.print(table)
    return 0
