"""Which condition tells harmful from benign_sensitive prompts (issue 13): for each candidate, each
layer and each token position, AUROC harmful vs benign_sensitive on the held-out MORBench-lite items,
per language, after fitting as `mitigate sweep` does: on the train items (split by item) plus the
packaged probe sets of the same languages.

    python benchmarks/condition.py --probe runs/probe8 --langs en,fr,zh --run runs/full-v2

Candidates: `refusal` (the probe's refusal direction of that layer), `harm_mean` (difference of means
harmful - benign_sensitive) and `harm_ridge` (ridge Fisher discriminant), at the last prompt token
and at the last token of the instruction. With `--run` (a bench folder of the same model over
MORBench-lite; its answers labelled again with today's rules, judge labels kept), the figures
that bound conditional steering are added: AUROC among the prompts the
model refused, and at the thresholds that let 5 % / 10 % of the refused harmful test prompts through,
the share of refused benign_sensitive ones let through too (what steering can reach). Captures are
cached in runs/condition-cache-*.npy. Prints one JSON object.
"""

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from rass_lite.backends.llama import LlamaBackend
from rass_lite.bench.datasets import load_set
from rass_lite.mitigate.condition import fit_condition
from rass_lite.mitigate.split import split_by_item
from rass_lite.probe import Probe
from rass_lite.probe.directions import auroc
from rass_lite.probe.sets import load_probe_sets
from rass_lite.records import read_jsonl
from rass_lite.refusal import is_refused
from rass_lite.refusal.detect import relabelled

LAYERS = range(4, 17)
POSITIONS = ("last", "instruction")
KINDS = ("refusal", "harm_mean", "harm_ridge")
LET_THROUGH = (0.05, 0.10)  # shares of refused harmful test prompts a threshold lets through


def captured(model, prompts: list[str], position: str, cache: Path) -> np.ndarray:
    key = hashlib.sha256(("\n".join(prompts) + position + str(list(LAYERS)) + model.identity).encode()).hexdigest()[:12]
    path = cache.parent / f"{cache.name}-{position}-{key}.npy"
    if path.exists():
        return np.load(path)
    hidden = model.capture(prompts, list(LAYERS), stop_at_layer=True, position=position)
    np.save(path, hidden)
    return hidden


def reach(s: np.ndarray, harmful: np.ndarray, benign: np.ndarray) -> dict:
    """AUROC among refused prompts and, per let-through share q of refused harmful, the share of
    refused benign_sensitive under the same cut."""
    out = {"auroc_refused": round(auroc(s[harmful], s[benign]), 3)}
    for q in LET_THROUGH:
        out[f"benign_through_at_{q:g}"] = round(float(np.mean(s[benign] < np.quantile(s[harmful], q))), 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probe", default="runs/probe8")
    parser.add_argument("--langs", default="en,fr,zh", help="MORBench-lite and probe-set languages (as the sweep's --langs)")
    parser.add_argument("--run", help="a bench folder over MORBench-lite: adds the figures among its refusals")
    args = parser.parse_args()
    langs = args.langs.split(",")
    model = LlamaBackend.load()
    probe = Probe.load(args.probe)
    records, _ = load_set("morbench-lite")
    records = [r for r in records if r["label"] in ("harmful", "benign_sensitive") and r["lang"] in langs]
    train, test = split_by_item(records)
    sets = load_probe_sets(None, None, langs)
    refused = None
    if args.run:
        labels = {r["id"]: is_refused(relabelled(r)) for r in read_jsonl(Path(args.run) / "results.jsonl")}
        refused = np.array([labels.get(r["id"], False) for r in test])
    cache = Path("runs") / "condition-cache"
    cache.parent.mkdir(exist_ok=True)
    results, best = {}, None
    is_h = np.array([r["label"] == "harmful" for r in test])
    masks = {lang: np.array([r["lang"] == lang for r in test]) for lang in langs}
    for position in POSITIONS:
        h_train = captured(model, [r["prompt"] for r in train if r["label"] == "harmful"] + [r["prompt"] for r in sets[0].records], position, cache)
        b_train = captured(model, [r["prompt"] for r in train if r["label"] == "benign_sensitive"] + [r["prompt"] for r in sets[1].records], position, cache)
        states_test = captured(model, [r["prompt"] for r in test], position, cache)
        for kind in KINDS:
            for i, layer in enumerate(LAYERS):
                cond = fit_condition(kind, layer, position, h_train[:, i], b_train[:, i], probe.vectors.directions.get(layer))
                s = cond.score(states_test[:, i])
                per_lang = {lang: round(auroc(s[is_h & m], s[~is_h & m]), 3) for lang, m in masks.items()}
                worst = min(per_lang.values())
                row = {"worst": worst, "all": round(auroc(s[is_h], s[~is_h]), 3), "per_language": per_lang}
                if refused is not None:
                    row.update(reach(s, is_h & refused, ~is_h & refused))
                results[f"{kind}/{position}/{layer}"] = row
                if best is None or worst > best[1]:
                    best = (f"{kind}/{position}/{layer}", worst)
    summary = {f"{k}/{p}": max((v["worst"], key.rsplit("/", 1)[1]) for key, v in results.items() if key.startswith(f"{k}/{p}/"))
               for k in KINDS for p in POSITIONS}
    counts = {"train_records": len(train), "test_records": len(test)}
    if refused is not None:
        counts.update(refused_harmful=int((is_h & refused).sum()), refused_benign_sensitive=int((~is_h & refused).sum()))
    print(json.dumps({"langs": langs, **counts,
                      "best_by_worst_language": {"setting": best[0], **results[best[0]]},
                      "best_layer_per_candidate (worst-language AUROC, layer)": summary,
                      "table": results}, indent=1))


if __name__ == "__main__":
    main()
