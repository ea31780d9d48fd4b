"""Scoring speed on the default model, alternated prompt by prompt in one process:
(a) naive: full forward of each whole prompt, capture of the probe layer;
(b) rass-lite's scoring path: stop at the probe layer, shared chat prefix decoded once.
(c) transformers fp32 output_hidden_states on the same GGUF, only if torch+transformers import.
And for the behaviour score's full pass (the first-token refusal probability), alternated the same way:
(d) plain: a full forward of each whole prompt, its next-token distribution;
(e) rass-lite's path (`first_token_probs`): the shared chat prefix decoded once per call.

    python benchmarks/score.py [--model NAME] [--layer 12] [--prompts 60]

Prints one JSON object with prompts/s and the ratios b/a (target >= 2) and e/d, and the largest
differences between the paths' vectors and probabilities.
"""

import argparse
import json
import time

import numpy as np
from _prompts import probe_prompts

from rass_lite.backends.llama import LlamaBackend


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None)
    parser.add_argument("--layer", type=int, default=12)
    parser.add_argument("--prompts", type=int, default=60)
    args = parser.parse_args()

    engine = LlamaBackend.load(args.model)
    prompts = probe_prompts(args.prompts)
    tokens = [engine.chat_tokens(p) for p in prompts]
    engine.capture_tokens(tokens[:2], [args.layer], stop_at_layer=True)  # warm up both paths
    engine.capture_tokens(tokens[:1], [args.layer])

    naive_s = fast_s = 0.0
    max_diff = 0.0
    # The fast path works in chunks like `score` does (prefix decoded once per call); alternate
    # chunk by chunk with the naive path over the same prompts.
    chunk = 10
    for i in range(0, len(tokens), chunk):
        part = tokens[i : i + chunk]
        t = time.perf_counter()
        a = np.concatenate([engine.capture_tokens([tok], [args.layer]) for tok in part])
        naive_s += time.perf_counter() - t
        t = time.perf_counter()
        b = engine.capture_tokens(part, [args.layer], stop_at_layer=True)
        fast_s += time.perf_counter() - t
        max_diff = max(max_diff, float(np.abs(a - b).max()))

    # The behaviour score's pass: P of the default model's refusal openers, both ways.
    from rass_lite.refusal.first_token import refusal_token_ids

    ids = sorted(refusal_token_ids(engine, "en"))
    plain_s = prefix_s = 0.0
    max_p_diff = 0.0
    for i in range(0, len(prompts), chunk):
        part = prompts[i : i + chunk]
        t = time.perf_counter()
        plain = []
        for tok in tokens[i : i + chunk]:
            logits = engine.last_token_logits(tok).astype(np.float64)
            p = np.exp(logits - logits.max())
            plain.append((p / p.sum())[ids])
        plain_s += time.perf_counter() - t
        t = time.perf_counter()
        fast, _ = engine.first_token_probs(part, [ids] * len(part))
        prefix_s += time.perf_counter() - t
        max_p_diff = max(max_p_diff, float(np.abs(np.array(plain) - np.array(fast)).max()))

    n = len(tokens)
    result = {
        "model": engine.name,
        "layer": args.layer,
        "prompts": n,
        "naive_prompts_per_s": round(n / naive_s, 2),
        "fast_prompts_per_s": round(n / fast_s, 2),
        "fast_vs_naive_ratio": round(naive_s / fast_s, 2),
        "max_abs_diff": max_diff,
        "behaviour_plain_prompts_per_s": round(n / plain_s, 2),
        "behaviour_prefix_prompts_per_s": round(n / prefix_s, 2),
        "behaviour_prefix_vs_plain_ratio": round(plain_s / prefix_s, 2),
        "behaviour_max_abs_diff_p": max_p_diff,
    }
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        result["transformers"] = "not installed (optional)"
    else:
        result.update(_transformers(engine, prompts, args.layer, fast_s / n))
    print(json.dumps(result, indent=2))


def _transformers(engine, prompts, layer, fast_s_per_prompt) -> dict:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(engine.path.parent), engine.path.name
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, torch_dtype="float32")
    import torch

    t = time.perf_counter()
    with torch.no_grad():
        for p in prompts:
            ids = tok.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True, return_tensors="pt")
            model(ids, output_hidden_states=True).hidden_states[layer + 1][0, -1]
    per = (time.perf_counter() - t) / len(prompts)
    return {"transformers_prompts_per_s": round(1 / per, 2), "fast_vs_transformers_ratio": round(per / fast_s_per_prompt, 2)}


if __name__ == "__main__":
    main()
