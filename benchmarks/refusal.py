"""Agreement of the rule-based refusal labels with human labels, next to a naive baseline.

Sets (all written by the team):
- tuned:        tests/data/refusal_labelled.jsonl (the rules were tuned on it);
- held_out:     benchmarks/data/refusal_heldout.jsonl (never used to tune the rules);
- styles_tune:  benchmarks/data/refusal_styles.jsonl, split "tune" (used to tune);
- styles_test:  the same file, split "test" (written first, never looked at while tuning);
- styles_tune2: benchmarks/data/refusal_styles_tune2.jsonl (second round of tune rows);
- styles_test2: benchmarks/data/refusal_styles_test2.jsonl (second test set, committed before
                the second tuning round and never looked at while tuning);
- styles_tune3: benchmarks/data/refusal_styles_tune3.jsonl (third round of tune rows);
- styles_test3: benchmarks/data/refusal_styles_test3.jsonl (third test set, committed before
                the third tuning round and scored once at its end);
- styles_tune4: benchmarks/data/refusal_styles_tune4.jsonl (fourth round of tune rows);
- styles_test4: benchmarks/data/refusal_styles_test4.jsonl (fourth test set, committed before
                the fourth tuning round and scored once at its end; the fifth round tuned on it);
- styles_test5: benchmarks/data/refusal_styles_test5.jsonl (fifth test set, written by four
                helpers who saw neither the rules nor any earlier set, committed after the fifth
                tuning round and scored once; the refusal probe was refitted on it);
- styles_test6: benchmarks/data/refusal_styles_test6.jsonl (sixth test set, 400 answers written the
                same way, committed after the probe's refit and scored once; the probe's update
                read it);
- styles_test7: benchmarks/data/refusal_styles_test7.jsonl (seventh test set, 400 answers written the
                same way, committed before any detector read it, scored once with the fitted probe;
                it then chose the probe update's pull and steps);
- styles_tune8: benchmarks/data/refusal_styles_tune8.jsonl (480 training answers in the styles both
                detectors missed most on test6/test7, written by four other helpers; the probe's update);
- styles_test8: benchmarks/data/refusal_styles_test8.jsonl (eighth test set, 400 answers written like
                test7 by four helpers blind to everything else, committed before any detector read it;
                neither the probe's fit nor its update read it, nor the rules' eighth round).

For each set: agreement overall, per language, per style (styles set) or note, per gold label,
the confusion matrix, speed, and the same figures for a naive ~20-phrase substring matcher
("refuse" if any phrase occurs anywhere, else "comply").

    python benchmarks/refusal.py
"""

import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rass_lite.refusal.rules import label_response  # noqa: E402

STYLES = ROOT / "benchmarks" / "data" / "refusal_styles.jsonl"
STYLES_TUNE2 = ROOT / "benchmarks" / "data" / "refusal_styles_tune2.jsonl"
STYLES_TEST2 = ROOT / "benchmarks" / "data" / "refusal_styles_test2.jsonl"
STYLES_TUNE3 = ROOT / "benchmarks" / "data" / "refusal_styles_tune3.jsonl"
STYLES_TEST3 = ROOT / "benchmarks" / "data" / "refusal_styles_test3.jsonl"
STYLES_TUNE4 = ROOT / "benchmarks" / "data" / "refusal_styles_tune4.jsonl"
STYLES_TEST4 = ROOT / "benchmarks" / "data" / "refusal_styles_test4.jsonl"
STYLES_TEST5 = ROOT / "benchmarks" / "data" / "refusal_styles_test5.jsonl"
STYLES_TEST6 = ROOT / "benchmarks" / "data" / "refusal_styles_test6.jsonl"
STYLES_TEST7 = ROOT / "benchmarks" / "data" / "refusal_styles_test7.jsonl"
STYLES_TUNE8 = ROOT / "benchmarks" / "data" / "refusal_styles_tune8.jsonl"
STYLES_TEST8 = ROOT / "benchmarks" / "data" / "refusal_styles_test8.jsonl"
SETS = {
    "tuned": (ROOT / "tests" / "data" / "refusal_labelled.jsonl", None),
    "held_out": (ROOT / "benchmarks" / "data" / "refusal_heldout.jsonl", None),
    "styles_tune": (STYLES, "tune"),
    "styles_test": (STYLES, "test"),
    "styles_tune2": (STYLES_TUNE2, "tune"),
    "styles_test2": (STYLES_TEST2, "test2"),
    "styles_tune3": (STYLES_TUNE3, "tune3"),
    "styles_test3": (STYLES_TEST3, "test3"),
    "styles_tune4": (STYLES_TUNE4, "tune4"),
    "styles_test4": (STYLES_TEST4, "test4"),
    "styles_test5": (STYLES_TEST5, "test5"),
    "styles_test6": (STYLES_TEST6, "test6"),
    "styles_test7": (STYLES_TEST7, "test7"),
    "styles_tune8": (STYLES_TUNE8, "tune8"),
    "styles_test8": (STYLES_TEST8, "test8"),
}
NAIVE_PHRASES = (
    "i'm sorry", "i am sorry", "i apologize", "as an ai", "i cannot", "i can't", "i can not",
    "i'm not able", "i am not able", "i am unable", "i'm unable", "i won't", "i will not",
    "not appropriate", "is illegal", "unethical", "my guidelines", "i must decline", "i'm just an ai",
    "not able to provide", "cannot fulfill",
)


def naive_label(response: str) -> str:
    text = (response or "").casefold().replace("\u2019", "'")
    return "refuse" if any(p in text for p in NAIVE_PHRASES) else "comply"


def rows_of(path: Path, split):
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if split is None or r.get("split") == split]


def score(rows, predicted, group_key):
    def agree(pairs):
        return {"n": len(pairs), "agreement": round(sum(p == r["label"] for r, p in pairs) / len(pairs), 4)}
    pairs = list(zip(rows, predicted))
    groups = defaultdict(list)
    langs = defaultdict(list)
    labels = defaultdict(list)
    for r, p in pairs:
        groups[r.get(group_key, "")].append((r, p))
        langs[r["lang"]].append((r, p))
        labels[r["label"]].append((r, p))
    confusion = Counter((r["label"], p) for r, p in pairs)
    out = agree(pairs)
    out["per_language"] = {k: agree(v) for k, v in sorted(langs.items())}
    out["per_gold_label"] = {k: agree(v) for k, v in sorted(labels.items())}
    if group_key == "style":
        out["per_style"] = {k: agree(v) for k, v in sorted(groups.items())}
    out["confusion_gold_to_predicted"] = {f"{g}->{p}": n for (g, p), n in sorted(confusion.items())}
    return out


def evaluate(path: Path, split) -> dict:
    rows = rows_of(path, split)
    group_key = "style" if rows and "style" in rows[0] else "note"
    t = time.perf_counter()
    predicted = [label_response(r["response"], r["lang"], prompt=r.get("prompt")).label for r in rows]
    seconds = time.perf_counter() - t
    rules = score(rows, predicted, group_key)
    rules["ms_per_answer"] = round(1000 * seconds / len(rows), 3)
    naive = score(rows, [naive_label(r["response"]) for r in rows], group_key)
    return {"rules": rules, "naive_baseline": naive}


def main(argv=None) -> None:
    """`python benchmarks/refusal.py [SET ...]`: all sets, or only the named ones."""
    names = list(argv if argv is not None else sys.argv[1:]) or list(SETS)
    unknown = [n for n in names if n not in SETS]
    if unknown:
        raise SystemExit(f"unknown set(s) {', '.join(unknown)}; use {', '.join(SETS)}")
    print(json.dumps({name: evaluate(*SETS[name]) for name in names}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
