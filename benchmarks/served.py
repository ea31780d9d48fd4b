"""The same MORBench-lite prompts answered (a) by the local backend in batches, (b) by the served
backend against a local llama-cpp-python server with 1 request in flight and (c) with 4, alternated
chunk by chunk in one run so drift on a shared machine hits all three alike.

    python benchmarks/served.py [--model smollm2-135m-instruct] [--n 48] [--max-tokens 48]

llama-cpp-python's server answers one request at a time per model (it holds a lock around its
Llama), so requests in flight queue there: (c) measures what concurrency buys against such a
server (nothing but overlapped HTTP), not what a vLLM or llama-server with parallel slots gives.
Prints one JSON object: seconds per prompt per mode, ratios to the local batch, and how many served
answers equal the local plain path's (same build, greedy).
"""

import argparse
import json
import sys
import time
from pathlib import Path

from _prompts import morbench_slice

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rass_lite.backends.llama import LlamaBackend  # noqa: E402
from rass_lite.backends.served import ServedBackend  # noqa: E402
from rass_lite.bench import BATCH_SIZE, DEFAULT_MAX_TOKENS  # noqa: E402
from rass_lite.models.fetch import ensure_model  # noqa: E402
from rass_lite.models.registry import ModelEntry, load_registry  # noqa: E402
from tests.servers import LlamaServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--n", type=int, default=48, help="prompts: the first N of a slice spread over every language")
    parser.add_argument("--max-tokens", type=int, default=DEFAULT_MAX_TOKENS)
    args = parser.parse_args()

    path = ensure_model(load_registry().get(args.model))
    prompts = [r["prompt"] for r in morbench_slice(20)][:args.n]
    server = LlamaServer(path, "bench").start()
    entry = ModelEntry(name="served", endpoint=server.url, api_model="bench")
    local = LlamaBackend.load(args.model)
    modes = {
        "local_batch": lambda chunk: local.generate_batch(chunk, max_tokens=args.max_tokens, batch_size=BATCH_SIZE),
        "served_1": lambda chunk: served[1].generate_batch(chunk, max_tokens=args.max_tokens),
        "served_4": lambda chunk: served[4].generate_batch(chunk, max_tokens=args.max_tokens),
    }
    served = {n: ServedBackend.from_entry(entry, concurrency=n) for n in (1, 4)}
    seconds = dict.fromkeys(modes, 0.0)
    answers = {m: [] for m in modes}
    try:
        for start in range(0, len(prompts), BATCH_SIZE):
            chunk = prompts[start:start + BATCH_SIZE]
            for mode, answer in modes.items():
                t = time.perf_counter()
                answers[mode] += answer(chunk)
                seconds[mode] += time.perf_counter() - t
        plain = [local.generate(p, max_tokens=args.max_tokens) for p in prompts]
    finally:
        server.stop()
    per_prompt = {m: round(s / len(prompts), 3) for m, s in seconds.items()}
    print(json.dumps({
        "model": args.model, "prompts": len(prompts), "max_tokens": args.max_tokens,
        "seconds_per_prompt": per_prompt,
        "ratio_to_local_batch": {m: round(per_prompt[m] / per_prompt["local_batch"], 2) for m in modes},
        "served_equal_to_local_plain": {m: sum(a == b for a, b in zip(answers[m], plain)) for m in ("served_1", "served_4")},
        "local_batch_equal_to_local_plain": sum(a == b for a, b in zip(answers["local_batch"], plain)),
    }, indent=2))


if __name__ == "__main__":
    main()
