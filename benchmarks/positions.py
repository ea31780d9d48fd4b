"""Which token position carries the refusal direction best: validation AUROC per layer for the last
five prompt positions and their mean, on the packaged probe sets and the default model.

    python benchmarks/positions.py [--layers 8-19]

Position -1 is the last prompt token (the newline after the assistant header); -k is reached by
capturing the prompt cut k-1 tokens short (causal attention makes that state identical).
Prints one JSON object {position: {layer: auroc}} and the best layer per position.
"""

import argparse
import json

import numpy as np

from rass_lite.probe.directions import difference_of_means, score_layers
from rass_lite.backends.llama import LlamaBackend
from rass_lite.probe import load_probe_set


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", default="8-19")
    args = parser.parse_args()
    lo, hi = map(int, args.layers.split("-"))
    layers = list(range(lo, hi + 1))

    engine = LlamaBackend.load()
    records = load_probe_set(None, "harmful").records + load_probe_set(None, "harmless").records
    is_harmful = np.array([r["id"].startswith("harm") for r in records])
    is_val = np.array([r["split"] == "val" for r in records])
    tokens = [engine.chat_tokens(r["prompt"]) for r in records]

    def aurocs(hidden: np.ndarray) -> dict:
        directions = difference_of_means(hidden[is_harmful & ~is_val], hidden[~is_harmful & ~is_val])
        scores = score_layers(directions, hidden[is_harmful & is_val], hidden[~is_harmful & is_val])
        return {layers[s.layer]: round(s.auroc, 4) for s in scores}

    captured = {}
    result = {}
    for k in range(1, 6):
        captured[k] = engine.capture_tokens([t[: len(t) - k + 1] for t in tokens], layers, stop_at_layer=True)
        result[f"pos-{k}"] = aurocs(captured[k])
    result["mean-of-5"] = aurocs(np.mean(list(captured.values()), axis=0))
    best = {pos: max(v.items(), key=lambda kv: kv[1]) for pos, v in result.items()}
    print(json.dumps({"auroc": result, "best": best}, indent=2))


if __name__ == "__main__":
    main()
