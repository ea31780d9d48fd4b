"""Does the boundary score hold in every language, and does the behaviour score predict the model's
own refusals (issue 11)? One run, on MORBench-lite's held-out items (split by item; nothing is
fitted on them):

    python benchmarks/boundary.py --probe runs/probe8 --run runs/full-v2

1. harmful vs benign controls, AUROC per language and layer, for axes fitted on the probe folder's
   states (train split): `english` (difference of means of the English probe prompts, the layer
   chosen by English validation: the naive probe), `naive_8x8` (the same from 8 + 8 English train
   prompts), `multilingual` (the mean of the eight languages' differences of means) and `ridge`
   (a ridge discriminant on all eight languages, its shrinkage chosen per layer on the probe's
   val split: the score axis `rass-lite probe` now keeps), the last two with the layer chosen by the
   worst language's validation AUROC.
2. the model's own refusals (its answers in the `--run` bench folder, labelled again with this
   release's rules, and again against hand labels: benchmarks/data/own_answers_gold.jsonl), AUROC
   overall and within the benign prompts (benign_sensitive + benign), for the
   projection, the first-token refusal probability read two ways (the marker openers of the
   prompt's language; the probe's token weights learned from its answers), the probe's behaviour
   score, and a behaviour score over three layers' projections (fitted on the probe's train split).

States and the 64 likeliest first tokens of each test prompt come from one full pass each, cached
in runs/boundary-cache-*.npz; both first-token readings sum over those 64 (the tail beyond them
holds well under 1 % of the mass). Prints one JSON object.
"""

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from own_answers import GOLD, read_gold

from rass_lite.backends.llama import LlamaBackend
from rass_lite.bench.datasets import load_set
from rass_lite.mitigate.split import split_by_item
from rass_lite.probe import Probe
from rass_lite.probe.behaviour import logit
from rass_lite.probe.boundary import fit_logistic_many
from rass_lite.probe.sets import BENCH_TRAIN
from rass_lite.probe.directions import (auroc, difference_of_means, difference_of_means_by_language, eligible_layers, ridge_axes,
                                       score_layers, unit)
from rass_lite.records import read_jsonl
from rass_lite.refusal import is_refused
from rass_lite.refusal.first_token import refusal_token_ids
from rass_lite.refusal.rules import label_response


TOP_K = 64


def cached_pass(model, records: list[dict], cache_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(states [n, n_layers, n_embd], top-k first-token ids [n, k], their probabilities [n, k])."""
    key = hashlib.sha256(("\n".join(r["id"] + r["prompt"] for r in records) + model.identity).encode()).hexdigest()[:12]
    path = cache_dir / f"boundary-cache-{key}.npz"
    if path.exists():
        z = np.load(path)
        return z["hidden"].astype(np.float32), z["ids"], z["probs"]
    ids, probs, hidden = model.first_token_top([r["prompt"] for r in records], TOP_K, layers=list(range(model.n_layers)))
    np.savez(path, hidden=hidden.astype(np.float16), ids=ids, probs=probs)
    return hidden, ids, probs


def weighted(ids: np.ndarray, probs: np.ndarray, weight_of: dict[int, float] | list[dict[int, float]]) -> np.ndarray:
    """sum_t P(t) w(t) over each row's top-k tokens (one table, or one per row)."""
    tables = weight_of if isinstance(weight_of, list) else [weight_of] * len(ids)
    return np.array([sum(float(p) * w.get(int(t), 0.0) for t, p in zip(row, ps)) for row, ps, w in zip(ids, probs, tables)])


def probe_records(folder: Path) -> tuple[list[dict], np.ndarray]:
    """The probe folder's prompts in its states' order, and which are harmful."""
    from rass_lite.probe import load_probe_set
    from rass_lite.probe.sets import with_bench_train

    meta = json.loads((folder / "probe.json").read_text())
    langs = meta.get("langs") or ["en"]
    harmful, harmless = load_probe_set(None, "harmful", langs), load_probe_set(None, "harmless", langs)
    if BENCH_TRAIN in meta["datasets"]["harmful"]["source"]:
        harmful, harmless = with_bench_train(harmful, harmless)
    return harmful.records + harmless.records, np.array([True] * len(harmful.records) + [False] * len(harmless.records))


def per_language_table(directions: np.ndarray, hidden: np.ndarray, is_h: np.ndarray, langs: np.ndarray) -> dict:
    units = unit(directions)
    table = {}
    for layer in eligible_layers(directions.shape[0]):
        proj = hidden[:, layer] @ units[layer]
        per = {lang: round(auroc(proj[is_h & (langs == lang)], proj[~is_h & (langs == lang)]), 3)
               for lang in sorted(set(langs.tolist()))}
        table[layer] = {"worst": min(per.values()), "per_language": per}
    return table


def behaviour_aurocs(signal: np.ndarray, refused: np.ndarray, benign: np.ndarray) -> dict:
    return {"all": round(auroc(signal[refused], signal[~refused]), 3),
            "benign": round(auroc(signal[refused & benign], signal[~refused & benign]), 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probe", default="runs/probe8")
    parser.add_argument("--run", default="runs/full-v2", help="a bench run of the whole set on the same model")
    parser.add_argument("--no-gold", action="store_true", help="skip the hand labels (another run than full-v2)")
    args = parser.parse_args()
    folder = Path(args.probe)
    probe = Probe.load(folder)
    model = LlamaBackend.load()
    assert model.identity == probe.model_sha256, "the probe was made on another model"

    # The probe folder's own states, as `rass-lite probe` fitted them.
    p_recs, p_is_h = probe_records(folder)
    p_hidden = np.load(folder / "hidden.npy").astype(np.float32)
    with np.load(folder / "first_token.npz") as z:
        p_first = z["p"]
    p_done = {r["id"]: r for r in read_jsonl(folder / "results.jsonl")}
    p_refused = np.array([is_refused(p_done[r["id"]]["refusal"]) for r in p_recs])
    p_langs = np.array([r["lang"] for r in p_recs])
    p_train = np.array([r.get("split", "train") == "train" for r in p_recs])

    # Held-out MORBench-lite items (split by item), every language.
    records, _ = load_set("morbench-lite")
    _, test = split_by_item(records)
    hidden, top_ids, top_probs = cached_pass(model, test, Path("runs"))
    openers = {lang: dict.fromkeys(refusal_token_ids(model, lang), 1.0) for lang in {r["lang"] for r in test}}
    first_openers = weighted(top_ids, top_probs, [openers[r["lang"]] for r in test])
    learned = probe.first_token_weights
    first = weighted(top_ids, top_probs, dict(zip(learned.ids, learned.weights)))
    langs = np.array([r["lang"] for r in test])
    label = np.array([r["label"] for r in test])
    answers = {r["id"]: r for r in read_jsonl(Path(args.run) / "results.jsonl")}
    refused = np.array([is_refused(label_response(answers[r["id"]]["response"], r["lang"], prompt=r["prompt"]).label)
                        for r in test])
    gold_refused = None if args.no_gold else np.array([is_refused(g["label"]) for g in read_gold(GOLD, test, answers)])
    benign = label != "harmful"

    # 1. harmful vs benign controls, per language and layer.
    controls = (label == "harmful") | (label == "benign")
    # The baselines read the packaged probe prompts only (a --with-bench-train folder holds more).
    packaged = np.array([r.get("source") != BENCH_TRAIN for r in p_recs])
    en = p_train & (p_langs == "en") & packaged
    directions = {
        "english": difference_of_means(p_hidden[en & p_is_h], p_hidden[en & ~p_is_h]),
        "multilingual": difference_of_means_by_language(p_hidden[p_train & packaged], p_is_h[p_train & packaged],
                                                        p_langs[p_train & packaged]),
        "naive_8x8": difference_of_means(p_hidden[en & p_is_h][:8], p_hidden[en & ~p_is_h][:8]),
    }
    tables = {name: per_language_table(d, hidden[controls], label[controls] == "harmful", langs[controls])
              for name, d in directions.items()}
    val = ~p_train
    base = score_layers(directions["multilingual"], p_hidden[val & p_is_h], p_hidden[val & ~p_is_h],
                        p_langs[val & p_is_h], p_langs[val & ~p_is_h])
    ridge_scores, axes = ridge_axes(p_hidden[p_train & p_is_h], p_hidden[p_train & ~p_is_h], p_hidden[val & p_is_h],
                                    p_hidden[val & ~p_is_h], p_langs[val & p_is_h], p_langs[val & ~p_is_h], base)
    ridge_dirs = np.zeros_like(directions["multilingual"])
    for il, w in axes.items():
        ridge_dirs[il] = w
    directions["ridge"] = ridge_dirs
    tables["ridge"] = per_language_table(ridge_dirs, hidden[controls], label[controls] == "harmful", langs[controls])
    multi_choice = max((s for s in base if s.eligible), key=lambda s: (round(s.auroc, 3), -s.layer)).layer
    # The layer each rule would choose from the probe's val split (never from MORBench-lite).
    en_val = val & (p_langs == "en")
    en_choice = per_language_table(directions["english"], p_hidden[en_val], p_is_h[en_val], p_langs[en_val])
    en_layer = max(en_choice, key=lambda il: (round(en_choice[il]["worst"], 3), -il))
    chosen = {"english": en_layer, "naive_8x8": en_layer, "multilingual": multi_choice, "ridge": probe.layer}

    # 2. own refusals on the held-out items.
    layer = probe.layer
    proj = hidden[:, layer] @ probe.direction
    signals = {"projection": proj, "first_token_openers": first_openers, "first_token_learned": first,
               "behaviour": probe.score(proj, first)}
    # Three layers' projections + first-token logit, fitted on the probe's train split.
    units = unit(directions["ridge"])
    several = [layer - 3, layer, layer + 3]
    x_probe = np.stack([p_hidden[:, il] @ units[il] for il in several] + [logit(p_first)], axis=1)
    w, b = fit_logistic_many(x_probe[p_train], p_refused[p_train])
    x_test = np.stack([hidden[:, il] @ units[il] for il in several] + [logit(first)], axis=1)
    signals["behaviour_3_layers"] = x_test @ w + b
    def own_refusals(refused: np.ndarray) -> tuple[dict, dict]:
        return ({name: behaviour_aurocs(s, refused, benign) for name, s in signals.items()},
                {lang: {name: behaviour_aurocs(s[langs == lang], refused[langs == lang], benign[langs == lang])
                        for name, s in signals.items()} for lang in sorted(set(langs.tolist()))})

    own, own_per_lang = own_refusals(refused)
    by_gold = {}
    if gold_refused is not None:  # the same, against the hand labels of these answers
        by_gold = dict(zip(("own_refusals_gold", "own_refusals_gold_per_language"), own_refusals(gold_refused)))
    print(json.dumps({
        "held_out": {"records": len(test), "items": len({r["item"] for r in test}),
                     "refused": int(refused.sum()), "benign_refused": int((refused & benign).sum()),
                     "benign": int(benign.sum())},
        "harmful_vs_controls_at_chosen_layer": {name: {"layer": chosen[name], **tables[name][chosen[name]]}
                                                for name in directions},
        "own_refusals": own,
        "own_refusals_per_language": own_per_lang,
        **by_gold,
        "table": {name: {str(k): v for k, v in t.items()} for name, t in tables.items()},
    }, indent=1))


if __name__ == "__main__":
    main()
