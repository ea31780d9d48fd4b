"""The refusal probe (`--method probe`): fit it, and measure it beside the rules.

    python benchmarks/refusal_probe.py --fit      # choose layers and shrinkage, fit, write the shipped head
    python benchmarks/refusal_probe.py [SET ...]  # agreement of the shipped head on each set

The default model reads each labelled answer with its request (refusal/state_probe.py: reading) and
its residual stream is captured at layers 8, 10, …, 22 (one pass per answer, stopping at layer 22,
cached per text in runs/refusal-probe-states.npz: a new set captures only its own rows). `--fit`
reads every labelled set but styles_test6, styles_test7, styles_test8 (never read here, so never fitted on) and
styles_tune8 (written after the shipped head's fit: the next fit reads it), the
default model's own answers to MORBench-lite's train items with their hand labels (benchmarks/own_answers.py), and a
cut-off copy of each comply and refuse answer (`bench` stops answers at 48 tokens). It chooses the
layers (one, or an ensemble averaging several layers' heads) and the shrinkage leave-later-out: for
test3, test4 and test5, a head fitted on the sets written before each is scored on its answers as
written, and the best mean agreement wins; the head is then fitted on everything it read. The fit
reads the states of batched captures (the shared opening of the template decoded once); labelling
reads each answer alone, so a label does not depend on its neighbours (the two differ by up to 0.05
per coordinate).
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

from own_answers import own_answers  # noqa: E402
from refusal import SETS, rows_of, score  # noqa: E402

from rass_lite.backends.llama import LlamaBackend  # noqa: E402
from rass_lite.refusal.rules import label_response  # noqa: E402
from rass_lite.refusal.state_probe import CLASSES, PACKAGED, fit_state_probe, packaged_probe, reading  # noqa: E402

LAYERS = list(range(8, 23, 2))
# Heads tried: single layers, and ensembles that average the class probabilities of several layers.
CANDIDATES = [(layer,) for layer in LAYERS] + [(12, 14, 16), (14, 18), (12, 14, 16, 18, 20), tuple(LAYERS)]
L2S = (0.003, 0.01, 0.03)
HELD = ("styles_test3", "styles_test4", "styles_test5")  # each scored by a head fitted on the sets before it
UNTOUCHED = ("styles_test6", "styles_test7", "styles_test8")  # the shipped head never read them
NOT_FITTED = UNTOUCHED + ("styles_tune8",)  # tune8 came after the shipped head's fit
CACHE = ROOT / "runs" / "refusal-probe-states.npz"
CHUNK = 500  # texts captured between two saves of the cache
ORDER = list(SETS)  # the order the sets were written in


def all_rows(names=tuple(SETS)) -> list[dict]:
    return [dict(r, set=name) for name in names for r in rows_of(*SETS[name])]


def cut_copies(rows: list[dict]) -> list[dict]:
    """Each comply or refuse answer cut off mid-sentence (at 35-75 % of its length, at a space), label kept:
    `bench` stops answers at 48 tokens, and a head that saw only finished answers read an unfinished
    answer as a refusal. Partial answers are left out (a cut can drop the part that makes them partial)."""
    out = []
    for r in rows:
        text = r["response"]
        if r["label"] == "partial" or len(text) < 120:
            continue
        share = 0.35 + 0.4 * int(hashlib.sha256(r["id"].encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        cut = text.rfind(" ", 0, int(len(text) * share))
        cut = cut if cut > 40 else int(len(text) * share)  # scripts without spaces (zh, ja) cut anywhere
        out.append(dict(r, id=r["id"] + ":cut", response=text[:cut].rstrip(" ,.;:!?。、，！？"), cut=True))
    return out


def row_key(text: str, model) -> str:
    return hashlib.sha256((text + "\0" + model.identity).encode()).hexdigest()


def states_of(model, rows: list[dict]) -> np.ndarray:
    """[n, len(LAYERS), n_embd]; cached per text read and model, so a new set captures only its own rows."""
    texts = [reading(r.get("prompt"), r["response"]) for r in rows]
    keys = [row_key(t, model) for t in texts]
    known: dict[str, np.ndarray] = {}
    if CACHE.exists():
        with np.load(CACHE) as z:
            known = dict(zip(z["keys"].tolist(), z["states"]))
    missing = [i for i, k in enumerate(keys) if k not in known]
    CACHE.parent.mkdir(exist_ok=True)
    for start in range(0, len(missing), CHUNK):  # saved after each chunk: a stopped capture resumes
        part = missing[start:start + CHUNK]
        new = model.capture([texts[i] for i in part], LAYERS, stop_at_layer=True)
        known.update({keys[i]: s.astype(np.float16) for i, s in zip(part, new)})
        partial = CACHE.with_suffix(".part.npz")
        np.savez(partial, keys=np.array(list(known)), states=np.stack(list(known.values())))
        partial.replace(CACHE)
        print(f"states: {len(known)} cached", file=sys.stderr, flush=True)
    return np.stack([known[k] for k in keys]).astype(np.float32)


def fit(model, rows: list[dict], states: np.ndarray) -> dict:
    sets = np.array([r["set"] for r in rows])
    labels = [r["label"] for r in rows]
    whole = np.array([not r.get("cut") for r in rows])
    # Each layer's head is fitted once per (held set, l2); an ensemble averages its layers' probabilities.
    probs = {}
    for held in HELD:
        before = np.flatnonzero(np.isin(sets, ORDER[:ORDER.index(held)]))
        test = np.flatnonzero((sets == held) & whole)  # scored on the answers as written
        for j, layer in enumerate(LAYERS):
            for l2 in L2S:
                head = fit_state_probe(states[before][:, [j]], [labels[i] for i in before], model.identity, [layer], l2)
                probs[held, layer, l2] = head.probabilities(states[test][:, [j]])
    trials = {}
    for layers in CANDIDATES:
        for l2 in L2S:
            trials[(layers, l2)] = float(np.mean([
                np.mean(np.array(CLASSES)[np.mean([probs[held, layer, l2] for layer in layers], 0).argmax(1)]
                        == np.array(labels)[(sets == held) & whole]) for held in HELD]))
    layers, l2 = max(trials, key=lambda k: (round(trials[k], 4), -len(k[0]), -k[1]))
    cols = [LAYERS.index(layer) for layer in layers]
    head = fit_state_probe(states[:, cols], labels, model.identity, layers, l2)
    out = ROOT / "rass_lite" / PACKAGED / f"{model.name}.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    head.save(out)
    name = lambda k: f"{'+'.join(map(str, k[0]))} l2={k[1]}"  # noqa: E731
    return {"chosen": {"layers": list(layers), "l2": l2, "leave_later_out": round(trials[(layers, l2)], 4)},
            "held": list(HELD), "trials": {name(k): round(v, 4) for k, v in sorted(trials.items())},
            "fitted_on": len(rows), "written": str(out.relative_to(ROOT))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sets", nargs="*", help=f"sets to score (default: all); one of {', '.join(SETS)}")
    parser.add_argument("--fit", action="store_true", help="choose, fit and write the shipped head")
    parser.add_argument("--run", default="runs/full-v2", help="the bench run whose train-item answers were hand-labelled")
    args = parser.parse_args()
    unknown = [s for s in args.sets if s not in SETS]
    if unknown:
        raise SystemExit(f"unknown set(s) {', '.join(unknown)}; use {', '.join(SETS)}")
    model = LlamaBackend.load()
    if args.fit:
        # the untouched sets are never read here, so never fitted on; the default model's own
        # answers to the train items (hand-labelled) come last: in the final fit, in no leave-later-out trial.
        rows = all_rows([name for name in SETS if name not in NOT_FITTED])
        rows += [dict(r, set="own_train") for r in own_answers(ROOT / args.run, "train")]
        rows += cut_copies(rows)
        print(json.dumps(fit(model, rows, states_of(model, rows)), indent=1))
        return
    head = packaged_probe(model.name)
    report = {}
    rows = all_rows(args.sets or tuple(SETS))
    for name in args.sets or list(SETS):
        part = [r for r in rows if r["set"] == name]
        pred = [x.label for x in head.label_many(model, [r.get("prompt") for r in part], [r["response"] for r in part])]
        rules = [label_response(r["response"], r["lang"], prompt=r.get("prompt")).label for r in part]
        group = "style" if "style" in part[0] else "note"
        report[name] = {"probe": score(part, pred, group), "rules": score(part, rules, group),
                        "fitted_on": name not in NOT_FITTED}
    print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
