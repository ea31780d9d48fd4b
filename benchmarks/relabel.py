"""A bench run's answers labelled again with today's rules, beside the labels the run recorded:
refused counts per language x label, and the answers whose label changed (to read them).

    python benchmarks/relabel.py runs/full-v2 [--show 50]

Judge labels (`refusal_reason` "judge…") are kept: only rule labels are recomputed. Prints one JSON
object; the changed answers go to stderr, cut to 120 characters (harmful prompts' answers included:
read them, do not ship them).
"""

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from rass_lite.records import read_jsonl
from rass_lite.refusal import is_refused
from rass_lite.refusal.detect import relabelled


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run")
    parser.add_argument("--show", type=int, default=50, help="changed answers to print (stderr)")
    args = parser.parse_args()
    records = {r["id"]: r for r in read_jsonl(Path(args.run) / "results.jsonl")}  # a resumed run may repeat ids
    recorded, today, n, changed = Counter(), Counter(), Counter(), []
    for r in records.values():
        label = relabelled(r)
        if label != r["refusal"]:
            changed.append((r["lang"], r["label"], r["refusal"], label, r["prompt"], r["response"]))
        for key in ((r["lang"], r["label"]), ("all", r["label"])):
            n[key] += 1
            recorded[key] += is_refused(r["refusal"])
            today[key] += is_refused(label)
    table = {f"{lang}/{label}": {"n": n[lang, label], "refused_recorded": recorded[lang, label],
                                 "refused_today": today[lang, label]} for lang, label in sorted(n)}
    print(json.dumps({"run": args.run, "records": len(records), "changed": len(changed),
                      "changes": Counter(f"{c[0]}/{c[1]}: {c[2]} -> {c[3]}" for c in changed), "table": table}, indent=1))
    for lang, label, old, new, prompt, response in changed[:args.show]:
        print(f"{lang} {label} {old} -> {new} | {prompt[:60]} => {response[:120]!r}", file=sys.stderr)


if __name__ == "__main__":
    main()
