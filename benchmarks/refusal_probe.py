"""The refusal probe (`--method probe`): fit it, and measure it beside the rules.

    python benchmarks/refusal_probe.py --fit      # choose layer and shrinkage, fit, write the shipped head
    python benchmarks/refusal_probe.py [SET ...]  # agreement of the shipped head on each set

The default model reads each labelled answer with its request (refusal/state_probe.py: reading) and
its residual stream is captured at layers 8, 10, …, 22 (one pass per answer, stopping at layer 22;
about 33 min for the 3,025 answers on 2 cores, cached in runs/refusal-probe-states.npz). `--fit`
chooses the layer and the shrinkage leave-later-out: for test3 and test4, a head fitted on the sets
written before each is scored on it, and the best mean agreement wins; the head is then fitted on
every set except styles_test5, which stays untouched (written after the rules' fifth round; this
script never fits on it). The fit reads the states of one batched capture (the shared opening of the
template decoded once); labelling reads each answer alone, so a label does not depend on its
neighbours (the two differ by up to 0.05 per coordinate; agreement on styles_test5 0.9375 either way).
Prints one JSON object.
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

from refusal import SETS, rows_of, score  # noqa: E402

from rass_lite.backends.llama import LlamaBackend  # noqa: E402
from rass_lite.refusal.rules import label_response  # noqa: E402
from rass_lite.refusal.state_probe import PACKAGED, fit_state_probe, packaged_probe, reading  # noqa: E402

LAYERS = list(range(8, 23, 2))
L2S = (0.001, 0.01, 0.1)
UNTOUCHED = "styles_test5"
CACHE = ROOT / "runs" / "refusal-probe-states.npz"
ORDER = list(SETS)  # the order the sets were written in


def all_rows() -> list[dict]:
    return [dict(r, set=name) for name, (path, split) in SETS.items() for r in rows_of(path, split)]


def states_of(model, rows: list[dict]) -> np.ndarray:
    """[n, len(LAYERS), n_embd], cached by the texts read and the model."""
    texts = [reading(r.get("prompt"), r["response"]) for r in rows]
    key = hashlib.sha256(("\n".join(texts) + model.identity).encode())
    if CACHE.exists():
        z = np.load(CACHE)
        if str(z["key"]) == key.hexdigest():
            return z["states"].astype(np.float32)
    states = model.capture(texts, LAYERS, stop_at_layer=True)
    CACHE.parent.mkdir(exist_ok=True)
    np.savez(CACHE, states=states.astype(np.float16), key=np.array(key.hexdigest()))
    return states


def fit(model, rows: list[dict], states: np.ndarray) -> dict:
    sets = np.array([r["set"] for r in rows])
    labels = [r["label"] for r in rows]
    trials = {}
    for j, layer in enumerate(LAYERS):
        for l2 in L2S:
            scores = []
            for held in ("styles_test3", "styles_test4"):
                before = np.isin(sets, ORDER[:ORDER.index(held)])
                head = fit_state_probe(states[before, j], [labels[i] for i in np.flatnonzero(before)], model.identity,
                                       layer, l2)
                test = np.flatnonzero(sets == held)
                scores.append(np.mean([p == labels[i] for p, i in zip(head.classify(states[test, j]), test)]))
            trials[(layer, l2)] = float(np.mean(scores))
    layer, l2 = max(trials, key=lambda k: (round(trials[k], 4), -k[1]))
    keep = np.flatnonzero(sets != UNTOUCHED)
    head = fit_state_probe(states[keep, LAYERS.index(layer)], [labels[i] for i in keep], model.identity, layer, l2)
    out = ROOT / "rass_lite" / PACKAGED / f"{model.name}.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    head.save(out)
    return {"chosen": {"layer": layer, "l2": l2, "leave_later_out": round(trials[(layer, l2)], 4)},
            "trials": {f"L{k[0]} l2={k[1]}": round(v, 4) for k, v in sorted(trials.items())},
            "fitted_on": int(len(keep)), "written": str(out.relative_to(ROOT))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sets", nargs="*", help=f"sets to score (default: all); one of {', '.join(SETS)}")
    parser.add_argument("--fit", action="store_true", help="choose, fit and write the shipped head")
    args = parser.parse_args()
    unknown = [s for s in args.sets if s not in SETS]
    if unknown:
        raise SystemExit(f"unknown set(s) {', '.join(unknown)}; use {', '.join(SETS)}")
    model = LlamaBackend.load()
    rows = all_rows()
    if args.fit:
        print(json.dumps(fit(model, rows, states_of(model, rows)), indent=1))
        return
    head = packaged_probe(model.name)
    report = {}
    for name in args.sets or list(SETS):
        part = [r for r in rows if r["set"] == name]
        pred = [x.label for x in head.label_many(model, [r.get("prompt") for r in part], [r["response"] for r in part])]
        rules = [label_response(r["response"], r["lang"], prompt=r.get("prompt")).label for r in part]
        group = "style" if "style" in part[0] else "note"
        report[name] = {"probe": score(part, pred, group), "rules": score(part, rules, group),
                        "fitted_on": name != UNTOUCHED}
    print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
