"""Batched answers vs one at a time on the default model: speed side by side, and how often the two
paths give the same answer and the same refusal label.

    python benchmarks/generate.py [--every 20] [--max-tokens 48] [--batch-sizes 8,16]

Each chunk of prompts is answered by every path in turn, so drift on a shared machine hits all alike.
Prints one JSON object. Target (issue 5): the full MORBench-lite in <= 30 min, which needs ~2x.
"""

import argparse
import json
import time

from _prompts import morbench_slice

from rass_lite.bench import DEFAULT_MAX_TOKENS
from rass_lite.backends.llama import LlamaBackend
from rass_lite.refusal.rules import label_response


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--every", type=int, default=20, help="take every n-th item (all languages)")
    parser.add_argument("--max-tokens", type=int, default=DEFAULT_MAX_TOKENS)
    parser.add_argument("--batch-sizes", default="8,16")
    args = parser.parse_args()
    sizes = [int(b) for b in args.batch_sizes.split(",")]

    engine = LlamaBackend.load()
    records = morbench_slice(args.every)
    prompts = [r["prompt"] for r in records]
    step = max(sizes)
    seconds = {"plain": 0.0, **{b: 0.0 for b in sizes}}
    answers = {"plain": [], **{b: [] for b in sizes}}
    for start in range(0, len(prompts), step):
        chunk = prompts[start:start + step]
        t = time.perf_counter()
        answers["plain"] += [engine.generate(p, max_tokens=args.max_tokens) for p in chunk]
        seconds["plain"] += time.perf_counter() - t
        for b in sizes:
            t = time.perf_counter()
            answers[b] += engine.generate_batch(chunk, max_tokens=args.max_tokens, batch_size=b)
            seconds[b] += time.perf_counter() - t

    def label(text, r):
        return label_response(text, r["lang"]).label

    plain_labels = [label(a, r) for a, r in zip(answers["plain"], records)]
    out = {"model": engine.name, "prompts": len(prompts), "max_tokens": args.max_tokens,
           "plain_s_per_prompt": round(seconds["plain"] / len(prompts), 3)}
    for b in sizes:
        out[f"batch_{b}"] = {
            "s_per_prompt": round(seconds[b] / len(prompts), 3),
            "speedup_vs_plain": round(seconds["plain"] / seconds[b], 2),
            "identical_answers": sum(x == y for x, y in zip(answers[b], answers["plain"])),
            "same_label": sum(label(a, r) == p for a, r, p in zip(answers[b], records, plain_labels)),
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
