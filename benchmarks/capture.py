"""Capture cost on the default model: plain decode vs decode with the eval callback reading every
layer, alternated prompt by prompt in one process; model load time; peak RSS.

    python benchmarks/capture.py [--model NAME] [--prompts 40]

Prints one JSON object. Targets: capture overhead <= 5 %, load + first capture <= 3 s,
peak RSS <= GGUF size + 400 MB.
"""

import argparse
import json
import resource
import time

from _prompts import probe_prompts

from rass_lite.backends.llama import LlamaBackend


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None)
    parser.add_argument("--prompts", type=int, default=40)
    args = parser.parse_args()

    t0 = time.perf_counter()
    engine = LlamaBackend.load(args.model)
    load_s = time.perf_counter() - t0
    prompts = probe_prompts(args.prompts)
    tokens = [engine.chat_tokens(p) for p in prompts]
    t1 = time.perf_counter()
    engine.capture_tokens(tokens[:1])  # creates the capture context
    first_capture_s = time.perf_counter() - t1

    plain, captured = 0.0, 0.0
    for tok in tokens:  # alternate so drift on a shared machine hits both sides alike
        engine.llm.reset()
        t = time.perf_counter()
        engine.llm.eval(tok)  # llama-cpp-python's own decode of the same tokens, no callback
        plain += time.perf_counter() - t
        t = time.perf_counter()
        engine.capture_tokens([tok])  # every layer's l_out read through the eval callback
        captured += time.perf_counter() - t

    n = len(tokens)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gguf_mb = engine.info.size / 2**20
    print(json.dumps({
        "model": engine.name,
        "prompts": n,
        "mean_prompt_tokens": round(sum(map(len, tokens)) / n, 1),
        "plain_s_per_prompt": round(plain / n, 4),
        "capture_all_layers_s_per_prompt": round(captured / n, 4),
        "capture_vs_plain_ratio": round(captured / plain, 3),
        "load_s": round(load_s, 3),
        "first_capture_s": round(first_capture_s, 3),
        "load_plus_first_capture_s": round(load_s + first_capture_s, 3),
        "peak_rss_mb": round(rss_mb, 1),
        "gguf_mb": round(gguf_mb, 1),
        "peak_rss_minus_gguf_mb": round(rss_mb - gguf_mb, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
