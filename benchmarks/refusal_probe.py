"""The refusal probe (`--method probe`): fit it, update it, and measure it beside the rules.

    python benchmarks/refusal_probe.py --fit      # choose layers and shrinkage, fit, write a head
    python benchmarks/refusal_probe.py --update   # move the fitted head toward the sets written since
    python benchmarks/refusal_probe.py [SET ...]  # agreement of the shipped head on each set

The default model reads each labelled answer with its request (refusal/state_probe.py: reading) and
its residual stream is captured at layers 8, 10, …, 22 (one pass per answer, stopping at layer 22,
cached per text in runs/refusal-probe-states.npz: a new set captures only its own rows). `--fit`
reads every labelled set written before styles_test6, the default model's own answers to
MORBench-lite's train items with their hand labels (benchmarks/own_answers.py), and a cut-off copy of
each comply and refuse answer (`bench` stops answers at 48 tokens). It chooses the layers (one, or an
ensemble averaging several layers' heads) and the shrinkage leave-later-out: for test3, test4 and
test5, a head fitted on the sets written before each is scored on its answers as written, and the best
mean agreement wins; the head is then fitted on everything it read (commit FIT_COMMIT wrote it).
`--update` starts from that head (read from git) and moves it toward styles_test6 and styles_tune8
with their cut-off copies (state_probe.update_state_probe: a penalty pulling toward the fitted head),
replaying what the fit read but the labelled sets' cut-off copies, so no leave-later-out choice is
rerun; the pull and the number of steps are chosen on styles_test7. styles_test8 is never read by
either. The fit reads the states of batched captures (the shared opening of the template decoded
once); labelling reads each answer alone, so a label does not depend on its neighbours (the two
differ by up to 0.05 per coordinate).
Prints one JSON object.
"""

import argparse
import hashlib
import io
import json
import subprocess
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
from rass_lite.refusal.state_probe import (CLASSES, PACKAGED, StateProbe, fit_state_probe, packaged_probe,  # noqa: E402
                                           reading, update_state_probe)

LAYERS = list(range(8, 23, 2))
# Heads tried: single layers, and ensembles that average the class probabilities of several layers.
CANDIDATES = [(layer,) for layer in LAYERS] + [(12, 14, 16), (14, 18), (12, 14, 16, 18, 20), tuple(LAYERS)]
L2S = (0.003, 0.01, 0.03)
HELD = ("styles_test3", "styles_test4", "styles_test5")  # each scored by a head fitted on the sets before it
UPDATE = ("styles_test6", "styles_tune8")  # written after the fit: the update reads them
SELECT = "styles_test7"  # chooses the update's pull and steps
UNTOUCHED = ("styles_test8",)  # neither the fit nor the update reads it
NOT_FITTED = UPDATE + (SELECT,) + UNTOUCHED
FIT_COMMIT = "8a2bb01"  # wrote the head `--fit` chose; `--update` starts from it
UPDATE_TRIALS = [(l2, steps) for l2 in (0.003, 0.01, 0.03) for steps in (100, 300)]
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


def labelled_rows() -> list[dict]:
    return all_rows([name for name in SETS if name not in NOT_FITTED])


def own_train_rows(run: Path) -> list[dict]:
    """The default model's own answers to the train items, hand-labelled."""
    return [dict(r, set="own_train") for r in own_answers(run, "train")]


def fitted_head(model) -> StateProbe:
    """The head `--fit` wrote at FIT_COMMIT."""
    path = f"rass_lite/{PACKAGED}/{model.name}.npz"
    blob = subprocess.run(["git", "show", f"{FIT_COMMIT}:{path}"], cwd=ROOT, capture_output=True, check=True).stdout
    return StateProbe.load(io.BytesIO(blob))


def update(model, run: Path) -> dict:
    """Move the fitted head toward UPDATE (with cut-off copies), replaying the rows the fit read but the
    labelled sets' cut-off copies: an update on the new sets alone learned their styles and forgot the
    model's own answers (refused agreement 0.963 -> 0.776). The trial agreeing best with SELECT wins."""
    base = fitted_head(model)
    cols = [LAYERS.index(layer) for layer in base.layers]
    new = all_rows(UPDATE)
    new += cut_copies(new)
    own = own_train_rows(run)
    rows = labelled_rows() + own + cut_copies(own) + new
    states = states_of(model, rows)[:, cols]
    select = all_rows([SELECT])
    select_states = states_of(model, select)[:, cols]
    gold = np.array([r["label"] for r in select])

    def agreement(head):
        return round(float(np.mean(np.array(head.classify(select_states)) == gold)), 4)
    heads = {k: update_state_probe(base, states, [r["label"] for r in rows], *k) for k in UPDATE_TRIALS}
    trials = {k: agreement(h) for k, h in heads.items()}
    best = max(trials, key=lambda k: (trials[k], -k[1], -k[0]))  # ties: fewer steps, weaker pull
    out = ROOT / "rass_lite" / PACKAGED / f"{model.name}.npz"
    heads[best].save(out)
    return {"base": FIT_COMMIT, "updated_on": list(UPDATE), "replayed": len(rows) - len(new),
            "rows": len(rows), "select": SELECT,
            "fitted_head_on_select": agreement(base),
            "trials": {f"l2={k[0]} steps={k[1]}": v for k, v in trials.items()},
            "chosen": {"l2": best[0], "steps": best[1], "agreement": trials[best]}, "written": str(out.relative_to(ROOT))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sets", nargs="*", help=f"sets to score (default: all); one of {', '.join(SETS)}")
    parser.add_argument("--fit", action="store_true", help="choose, fit and write a head")
    parser.add_argument("--update", action="store_true", help="update the fitted head on the sets written since")
    parser.add_argument("--run", default="runs/full-v2", help="the bench run whose train-item answers were hand-labelled")
    args = parser.parse_args()
    unknown = [s for s in args.sets if s not in SETS]
    if unknown:
        raise SystemExit(f"unknown set(s) {', '.join(unknown)}; use {', '.join(SETS)}")
    model = LlamaBackend.load()
    if args.fit:
        # the default model's own answers come last: in the final fit only, in no leave-later-out trial.
        rows = labelled_rows() + own_train_rows(ROOT / args.run)
        rows += cut_copies(rows)
        print(json.dumps(fit(model, rows, states_of(model, rows)), indent=1))
        return
    if args.update:
        print(json.dumps(update(model, ROOT / args.run), indent=1))
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
                        "read_by_shipped_head": ("never" if name in UNTOUCHED else "chose the update" if name == SELECT
                                                 else "fitted on")}
    print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
