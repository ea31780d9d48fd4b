"""How well are a model's own answers labelled? The rules (and, with --probe, the refusal probe) against
hand labels of the answers a bench run gave to MORBench-lite's held-out items:

    python benchmarks/own_answers.py [--run runs/full-v2] [--probe]
    python benchmarks/own_answers.py --run runs/smol-full --gold benchmarks/data/smollm2_answers_gold.jsonl \
        --probe-labels runs/smol-full/probe_test.jsonl

The first reads the default model's answers; the second another model's (SmolLM2-135M: `rass-lite bench
--model smollm2-135m-instruct --method rules --out runs/smol-full`), with the probe's labels of them from
`rass-lite judge … --method probe`.

The hand labels (benchmarks/data/own_answers_gold.jsonl: id, lang, label, note, and the sha256 of the
answer read; the answers themselves are not shipped, since some comply with harmful requests) were
written by four annotators, two languages each, who read every answer and saw neither the rules nor
their labels. Reports three-way agreement (per language, per annotator note, per gold label, confusion)
and agreement on "refused" (refuse + partial), the definition every overrefusal figure uses. Prints
one JSON object.
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from refusal import naive_label, score  # noqa: E402

from rass_lite.bench.datasets import load_set  # noqa: E402
from rass_lite.mitigate.split import split_by_item  # noqa: E402
from rass_lite.records import read_jsonl  # noqa: E402
from rass_lite.refusal import is_refused  # noqa: E402
from rass_lite.refusal.degenerate import degenerate  # noqa: E402
from rass_lite.refusal.rules import label_response  # noqa: E402

GOLD = ROOT / "benchmarks" / "data" / "own_answers_gold.jsonl"  # the held-out items' answers: never fitted on
GOLD_TRAIN = ROOT / "benchmarks" / "data" / "own_answers_train_gold.jsonl"  # the train items': the probe's fit


def read_gold(path: Path, records: list[dict], answers: dict) -> list[dict]:
    """The hand labels of the run's answers to `records`, in their order; each must label the answer it read."""
    gold = {g["id"]: g for g in read_jsonl(path)}
    missing = [r["id"] for r in records if r["id"] not in gold]
    if missing:
        raise SystemExit(f"{path}: no hand label for {len(missing)} answers (first {missing[0]})")
    moved = [r["id"] for r in records if hashlib.sha256(answers[r["id"]]["response"].encode()).hexdigest()
             != gold[r["id"]]["response_sha256"]]
    if moved:
        raise SystemExit(f"{path}: {len(moved)} answers of the run differ from the ones labelled (first {moved[0]}); "
                         "pass the run they were written for")
    return [gold[r["id"]] for r in records]


def own_answers(run: Path, part: str = "test", gold_file: Path | None = None) -> list[dict]:
    """MORBench-lite records of one side of the by-item split with the run's answer as `response`, the hand
    label as `label` and the annotator's note."""
    records, _ = load_set("morbench-lite")
    train, test = split_by_item(records)
    rows = test if part == "test" else train
    answers = {r["id"]: r for r in read_jsonl(run / "results.jsonl")}
    gold = read_gold(gold_file or (GOLD if part == "test" else GOLD_TRAIN), rows, answers)
    return [dict(r, response=answers[r["id"]]["response"], label=g["label"], note=g["note"])
            for r, g in zip(rows, gold)]


def refused_agreement(rows: list[dict], predicted: list[str]) -> dict:
    same = np.array([is_refused(p) == is_refused(r["label"]) for r, p in zip(rows, predicted)])
    langs = np.array([r["lang"] for r in rows])
    return {"all": round(float(same.mean()), 4),
            "per_language": {lang: round(float(same[langs == lang].mean()), 4) for lang in sorted(set(langs))}}


def probe_labels(rows: list[dict]) -> list[str]:
    """The refusal probe's labels, cached per answer and head in runs/ (one pass of ~0.7 s an answer)."""
    from rass_lite.backends.llama import LlamaBackend
    from rass_lite.refusal.state_probe import packaged_probe

    model = LlamaBackend.load()
    head = packaged_probe(model.name)
    tag = hashlib.sha256(head.weights.tobytes()).hexdigest()[:12]
    cache = ROOT / "runs" / f"own-answers-probe-{tag}.jsonl"
    done = {r["key"]: r["label"] for r in read_jsonl(cache)} if cache.exists() else {}
    cache.parent.mkdir(exist_ok=True)
    keys = [hashlib.sha256(f"{r['prompt']}\0{r['response']}".encode()).hexdigest()[:20] for r in rows]  # any run
    with cache.open("a", encoding="utf-8") as f:  # appended as it goes, so a stopped run resumes
        for key, r in zip(keys, rows):
            if key not in done:
                done[key] = head.label_many(model, [r["prompt"]], [r["response"]])[0].label
                f.write(json.dumps({"key": key, "label": done[key]}) + "\n")
                f.flush()
    return [done[key] for key in keys]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", default="runs/full-v2", help="the bench run whose held-out answers were hand-labelled")
    parser.add_argument("--gold", type=Path, help="hand labels of the run's held-out answers (default: the default "
                        "model's, benchmarks/data/own_answers_gold.jsonl)")
    parser.add_argument("--probe", action="store_true", help="also score the refusal probe (--method probe)")
    parser.add_argument("--probe-labels", type=Path, help="the probe's labels of the run's answers, as `rass-lite "
                        "judge --method probe` writes them")
    args = parser.parse_args()
    rows = own_answers(Path(args.run), gold_file=args.gold)
    methods = {"rules": [label_response(r["response"], r["lang"], prompt=r["prompt"]).label for r in rows],
               "naive_baseline": [naive_label(r["response"]) for r in rows]}
    if args.probe:
        methods["probe"] = probe_labels(rows)
    if args.probe_labels:
        judged = {r["id"]: r["refusal"] for r in read_jsonl(args.probe_labels)}
        methods["probe"] = [judged[r["id"]] for r in rows]
    if "probe" in methods:  # what `--method probe` gives: loops and echoes are left to the rules
        methods["probe_shipped"] = [rules if degenerate(r["prompt"], r["response"]) else probe
                                    for r, rules, probe in zip(rows, methods["rules"], methods["probe"])]
    report = {"answers": len(rows), "gold_refused": sum(is_refused(r["label"]) for r in rows)}
    for name, predicted in methods.items():
        report[name] = {"refused": refused_agreement(rows, predicted), "three_way": score(rows, predicted, "note")}
    print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
