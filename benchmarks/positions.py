"""Which token position carries the refusal direction best: validation AUROC per layer for the last
prompt positions (and their mean) and the last token of the instruction, on the packaged probe sets
in the asked languages and the default model; with several languages, the direction is the mean of
the languages' differences of means and the AUROC is the worst language's (as the probe chooses).

    python benchmarks/positions.py [--layers 8-19] [--langs en] [--last 5]

Position -1 is the last prompt token (the newline after the assistant header); -k is reached by
capturing the prompt cut k-1 tokens short (causal attention makes that state identical);
"instruction" is the last token of the user's text, before the template's assistant header.
Prints one JSON object {position: {layer: auroc}}, per-language AUROC at each position's best layer,
and the best layer per position.
"""

import argparse
import json

import numpy as np

from rass_lite.backends.llama import LlamaBackend
from rass_lite.probe.directions import difference_of_means_by_language, score_layers
from rass_lite.probe.sets import load_probe_sets


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", default="8-19")
    parser.add_argument("--langs", default="en", help="comma-separated probe-set languages (default en)")
    parser.add_argument("--last", type=int, default=5, help="how many last prompt positions (default 5)")
    args = parser.parse_args()
    lo, hi = map(int, args.layers.split("-"))
    layers = list(range(lo, hi + 1))

    engine = LlamaBackend.load()
    harmful, harmless = load_probe_sets(None, None, args.langs.split(","))
    records = harmful.records + harmless.records
    is_harmful = np.array([i < len(harmful.records) for i in range(len(records))])
    is_val = np.array([r["split"] == "val" for r in records])
    langs = np.array([r["lang"] for r in records])
    tokens = [engine.chat_tokens(r["prompt"]) for r in records]

    def scored(hidden: np.ndarray) -> list:
        train = ~is_val
        directions = difference_of_means_by_language(hidden[train], is_harmful[train], langs[train])
        return score_layers(directions, hidden[is_harmful & is_val], hidden[~is_harmful & is_val],
                            langs[is_harmful & is_val], langs[~is_harmful & is_val])

    captured, result, per_language = {}, {}, {}

    def record(name: str, hidden: np.ndarray) -> None:
        scores = scored(hidden)
        result[name] = {layers[s.layer]: round(s.auroc, 4) for s in scores}
        top = max(scores, key=lambda s: s.auroc)
        per_language[name] = {"layer": layers[top.layer], **{g: round(a, 4) for g, a in top.per_language.items()}}

    for k in range(1, args.last + 1):
        captured[k] = engine.capture_tokens([t[: len(t) - k + 1] for t in tokens], layers, stop_at_layer=True)
        record(f"pos-{k}", captured[k])
    if args.last > 1:
        record(f"mean-of-{args.last}", np.mean(list(captured.values()), axis=0))
    record("instruction", engine.capture([r["prompt"] for r in records], layers, stop_at_layer=True, position="instruction"))
    best = {pos: max(v.items(), key=lambda kv: kv[1]) for pos, v in result.items()}
    print(json.dumps({"langs": args.langs, "auroc": result, "per_language_at_best_layer": per_language, "best": best},
                     indent=2))


if __name__ == "__main__":
    main()
