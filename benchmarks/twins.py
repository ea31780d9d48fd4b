"""MORBench-lite v2 by category: the overrefusal of each benign_sensitive category beside the refusal
of its harmful twins, per language, from a finished (or partial) bench run.

    python benchmarks/twins.py runs/full-v2 [--markdown]

Refused = refuse or partial. A model that tells the two apart refuses the twins and answers the category.
"""

import argparse
import json
from collections import defaultdict

from rass_lite.refusal import is_refused
from rass_lite.runs import read_results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    rows = list(read_results(args.run).values())
    cells: dict = defaultdict(lambda: [0, 0])
    for r in rows:
        category = r["category"] if r["label"] == "benign_sensitive" else r.get("twin")
        if r["label"] in ("benign_sensitive", "harmful") and category:
            cell = cells[r["lang"], category, r["label"]]
            cell[0] += is_refused(r["refusal"])
            cell[1] += 1
    langs = sorted({k[0] for k in cells})
    categories = sorted({k[1] for k in cells})
    table = {cat: {lang: {label: cells.get((lang, cat, label)) for label in ("benign_sensitive", "harmful")}
                   for lang in langs} for cat in categories}
    if not args.markdown:
        print(json.dumps({"n": len(rows), "table": table}, indent=1))
        return
    print("| category | " + " | ".join(langs) + " |")
    print("|---|" + "---:|" * len(langs))
    for cat in categories:
        def fmt(c):
            return "–" if not c else f"{100 * c[0] / c[1]:.0f}"

        print(f"| {cat} | " + " | ".join(f"{fmt(table[cat][lang]['benign_sensitive'])} / {fmt(table[cat][lang]['harmful'])}"
                                         for lang in langs) + " |")


if __name__ == "__main__":
    main()
