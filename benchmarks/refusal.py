"""Accuracy of the rule-based refusal labels per language and per label, plus labelling speed, on
two sets written by the team:
- tests/data/refusal_labelled.jsonl: the rules were tuned on it (the tests hold them to >= 0.95);
- benchmarks/data/refusal_heldout.jsonl: written separately, never used to tune the rules.

    python benchmarks/refusal.py

Prints one JSON object with both.
"""

import json
import time
from collections import Counter, defaultdict
from pathlib import Path

from rass_lite.refusal.rules import label_response

ROOT = Path(__file__).resolve().parent.parent
SETS = {"tuned": ROOT / "tests" / "data" / "refusal_labelled.jsonl",
        "held_out": ROOT / "benchmarks" / "data" / "refusal_heldout.jsonl"}


def main() -> None:
    print(json.dumps({name: evaluate(path) for name, path in SETS.items()}, indent=2))


def evaluate(path: Path) -> dict:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    t = time.perf_counter()
    predicted = [label_response(r["response"], r["lang"]).label for r in rows]
    seconds = time.perf_counter() - t
    by_lang, by_label = defaultdict(list), defaultdict(list)
    confusion = Counter()
    for r, p in zip(rows, predicted):
        by_lang[r["lang"]].append(p == r["label"])
        by_label[r["label"]].append(p == r["label"])
        confusion[r["label"], p] += 1
    return {
        "n": len(rows),
        "accuracy": round(sum(p == r["label"] for r, p in zip(rows, predicted)) / len(rows), 4),
        "per_language": {k: {"n": len(v), "accuracy": round(sum(v) / len(v), 4)} for k, v in sorted(by_lang.items())},
        "per_label": {k: {"n": len(v), "recall": round(sum(v) / len(v), 4)} for k, v in sorted(by_label.items())},
        "confusion_gold_to_predicted": {f"{g}->{p}": n for (g, p), n in sorted(confusion.items())},
        "ms_per_answer": round(1000 * seconds / len(rows), 3),
    }


if __name__ == "__main__":
    main()
