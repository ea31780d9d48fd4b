"""Does reading the opening of the model's answer predict its own refusals better than one pass over the
prompt (issue 11: behaviour AUROC >= 0.96 overall and within the benign prompts)?

    python benchmarks/lookahead.py [--run runs/full-v2] [--tokens 12]   # --tokens 12,24 compares lengths

On MORBench-lite's held-out items (split by item; nothing here is fitted on them), against the hand
labels of the default model's answers in the `--run` bench folder (benchmarks/data/own_answers_gold.jsonl;
the run must hold the very answers that were labelled, checked by sha256): the lookahead score
(`rass_lite.score.lookahead`: greedy opening, one prompt at a time, read by the shipped refusal probe)
for each opening length, and in the same run the first-token refusal probability of the marker openers
of the prompt's language. The longest opening is generated once and cut for the shorter ones (its
first k tokens, as a k-token greedy answer would be). Openings and probabilities are cached per item in
runs/lookahead-cache-<head>.jsonl (local, never shipped), so a stopped run resumes. Prints one JSON
object: AUROC overall and benign, per language, and how often the opening already shows the label.
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from own_answers import GOLD, read_gold  # noqa: E402

from rass_lite.backends.llama import LlamaBackend  # noqa: E402
from rass_lite.bench.datasets import load_set  # noqa: E402
from rass_lite.mitigate.split import split_by_item  # noqa: E402
from rass_lite.probe.directions import auroc  # noqa: E402
from rass_lite.records import read_jsonl  # noqa: E402
from rass_lite.refusal import is_refused  # noqa: E402
from rass_lite.refusal.first_token import refusal_token_ids  # noqa: E402
from rass_lite.refusal.state_probe import packaged_probe  # noqa: E402
from rass_lite.probe.behaviour import logit  # noqa: E402
from rass_lite.score.lookahead import P_CLIP, openings  # noqa: E402


def aurocs(signal: np.ndarray, refused: np.ndarray, benign: np.ndarray, langs: np.ndarray) -> dict:
    def pair(mask):
        return round(auroc(signal[mask & refused], signal[mask & ~refused]), 3)
    return {"all": pair(np.ones_like(refused)), "benign": pair(benign),
            "per_language": {lang: {"all": pair(langs == lang), "benign": pair((langs == lang) & benign)}
                             for lang in sorted(set(langs.tolist()))}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", default="runs/full-v2", help="the bench run whose held-out answers were hand-labelled")
    parser.add_argument("--tokens", default="12", help="opening lengths, comma-separated (default 12)")
    args = parser.parse_args()
    lengths = sorted(int(x) for x in args.tokens.split(","))
    records, _ = load_set("morbench-lite")
    _, test = split_by_item(records)
    answers = {r["id"]: r for r in read_jsonl(Path(args.run) / "results.jsonl")}
    gold = read_gold(GOLD, test, answers)  # stops unless every answer is the one labelled

    model = LlamaBackend.load()
    head = packaged_probe(model.name)
    tag = hashlib.sha256(head.weights.tobytes()).hexdigest()[:12]
    cache = ROOT / "runs" / f"lookahead-cache-{tag}.jsonl"
    done = {r["id"]: r for r in read_jsonl(cache)} if cache.exists() else {}
    with cache.open("a", encoding="utf-8") as f:  # appended as it goes, so a stopped run resumes
        for n, r in enumerate(test):
            if r["id"] in done and all(str(k) in done[r["id"]]["p"] for k in lengths):
                continue
            longest = openings(model, [r["prompt"]], lengths[-1])[0]
            tokens = model.tokens_of(longest)
            cuts = {k: longest if k == lengths[-1] else model.detokenize(tokens[:k], []) for k in lengths}
            p = dict(zip(map(str, lengths), head.p_refused(model, [r["prompt"]] * len(lengths), list(cuts.values()))))
            done[r["id"]] = {"id": r["id"], "opening": longest, "p": {k: round(float(v), 6) for k, v in p.items()}}
            f.write(json.dumps(done[r["id"]], ensure_ascii=False) + "\n")
            f.flush()
            if n % 50 == 0:
                print(f"{n}/{len(test)}", file=sys.stderr, flush=True)

    prompts = [r["prompt"] for r in test]
    ids = [refusal_token_ids(model, lang) for lang in sorted({r["lang"] for r in test})]
    by_lang = dict(zip(sorted({r["lang"] for r in test}), ids))
    probs, _ = model.first_token_probs(prompts, [by_lang[r["lang"]] for r in test])
    signals = {"first_token_openers": logit(np.array([float(p.sum()) for p in probs]))}
    for k in lengths:
        signals[f"lookahead_{k}"] = logit(np.clip([done[r["id"]]["p"][str(k)] for r in test], P_CLIP, 1 - P_CLIP))

    refused = np.array([is_refused(g["label"]) for g in gold])
    benign = np.array([r["label"] != "harmful" for r in test])
    langs = np.array([r["lang"] for r in test])
    report = {"records": len(test), "gold_refused": int(refused.sum()), "benign_refused": int((refused & benign).sum()),
              "benign": int(benign.sum()),
              "signals": {name: aurocs(s, refused, benign, langs) for name, s in signals.items()},
              "opening_agrees_at_0.5": {name: round(float(((s > 0) == refused).mean()), 4)
                                        for name, s in signals.items() if name.startswith("lookahead")}}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
