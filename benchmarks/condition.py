"""Which condition tells harmful from benign_sensitive prompts (issue 13): for each candidate, each
layer and each token position, AUROC harmful vs benign_sensitive on the held-out MORBench-lite items,
per language, after fitting on the train items (split by item) plus the probe sets.

    python benchmarks/condition.py [--every 3] [--probe runs/probe]

Candidates: `refusal` (the probe's refusal direction of that layer), `harm_mean` (difference of means
harmful - benign_sensitive) and `harm_ridge` (ridge Fisher discriminant), at the last prompt token
and at the last token of the instruction. Captures are cached in runs/condition-cache-*.npz. Prints
one JSON object: the table, and the best setting by the worst language's AUROC.
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
from rass_lite.probe import Probe, load_probe_set
from rass_lite.probe.directions import auroc

LAYERS = range(4, 20)
POSITIONS = ("last", "instruction")
KINDS = ("refusal", "harm_mean", "harm_ridge")


def captured(model, prompts: list[str], position: str, cache: Path) -> np.ndarray:
    key = hashlib.sha256(("\n".join(prompts) + position + model.identity).encode()).hexdigest()[:12]
    path = cache.parent / f"{cache.name}-{position}-{key}.npy"
    if path.exists():
        return np.load(path)
    hidden = model.capture(prompts, list(LAYERS), stop_at_layer=True, position=position)
    np.save(path, hidden)
    return hidden


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--every", type=int, default=3, help="every n-th MORBench-lite item (all languages)")
    parser.add_argument("--probe", default="runs/probe")
    args = parser.parse_args()
    model = LlamaBackend.load()
    probe = Probe.load(args.probe)
    records, _ = load_set("morbench-lite")
    items = sorted({r["item"] for r in records if r["label"] in ("harmful", "benign_sensitive")})[::args.every]
    keep = set(items)
    records = [r for r in records if r["item"] in keep]
    train, test = split_by_item(records)
    sets = (load_probe_set(None, "harmful").records, load_probe_set(None, "harmless").records)
    cache = Path("runs") / "condition-cache"
    cache.parent.mkdir(exist_ok=True)
    results, best = {}, None
    for position in POSITIONS:
        h_train = captured(model, [r["prompt"] for r in train if r["label"] == "harmful"] + [r["prompt"] for r in sets[0]], position, cache)
        b_train = captured(model, [r["prompt"] for r in train if r["label"] == "benign_sensitive"] + [r["prompt"] for r in sets[1]], position, cache)
        states_test = captured(model, [r["prompt"] for r in test], position, cache)
        is_h = np.array([r["label"] == "harmful" for r in test])
        masks = {lang: np.array([r["lang"] == lang for r in test]) for lang in sorted({r["lang"] for r in test})}
        for kind in KINDS:
            for i, layer in enumerate(LAYERS):
                cond = fit_condition(kind, layer, position, h_train[:, i], b_train[:, i], probe.vectors.directions.get(layer))
                s = cond.score(states_test[:, i])
                per_lang = {lang: round(auroc(s[is_h & m], s[~is_h & m]), 3) for lang, m in masks.items()}
                worst = min(per_lang.values())
                results[f"{kind}/{position}/{layer}"] = {"worst": worst, "all": round(auroc(s[is_h], s[~is_h]), 3),
                                                         "per_language": per_lang}
                if best is None or worst > best[1]:
                    best = (f"{kind}/{position}/{layer}", worst)
    summary = {f"{k}/{p}": max((v["worst"], key.rsplit("/", 1)[1]) for key, v in results.items() if key.startswith(f"{k}/{p}/"))
               for k in KINDS for p in POSITIONS}
    print(json.dumps({"items": len(items), "train_records": len(train), "test_records": len(test),
                      "best_by_worst_language": {"setting": best[0], **results[best[0]]},
                      "best_layer_per_candidate (worst-language AUROC, layer)": summary,
                      "table": results}, indent=1))


if __name__ == "__main__":
    main()
