"""The probe's behaviour step (answer every probe prompt, label it) one at a time vs in batches, on
the default model: seconds side by side, alternated by chunk, and how many refusal labels shift.

    python benchmarks/probe_behaviour.py [--batch-size 16]

Prints one JSON object.
"""

import argparse
import json
import time

from rass_lite.backends.llama import LlamaBackend
from rass_lite.probe import load_probe_set
from rass_lite.probe.step import BEHAVIOUR_MAX_TOKENS
from rass_lite.refusal.rules import label_response


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    records = load_probe_set(None, "harmful").records + load_probe_set(None, "harmless").records
    prompts = [r["prompt"] for r in records]
    model = LlamaBackend.load()
    seconds = {"one_at_a_time": 0.0, "batched": 0.0}
    plain, batched = [], []
    for start in range(0, len(prompts), args.batch_size):
        chunk = prompts[start:start + args.batch_size]
        t = time.perf_counter()
        plain += [model.generate(p, max_tokens=BEHAVIOUR_MAX_TOKENS) for p in chunk]
        seconds["one_at_a_time"] += time.perf_counter() - t
        t = time.perf_counter()
        batched += model.generate_batch(chunk, max_tokens=BEHAVIOUR_MAX_TOKENS, batch_size=args.batch_size)
        seconds["batched"] += time.perf_counter() - t

    def refused(answers):
        return [label_response(a, "en").label in ("refuse", "partial") for a in answers]

    a, b = refused(plain), refused(batched)
    n_harmful = len(load_probe_set(None, "harmful").records)
    print(json.dumps({
        "prompts": len(prompts), "max_tokens": BEHAVIOUR_MAX_TOKENS, "batch_size": args.batch_size,
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
        "speedup": round(seconds["one_at_a_time"] / seconds["batched"], 2),
        "identical_answers": sum(x == y for x, y in zip(plain, batched)),
        "refused_labels_that_differ": sum(x != y for x, y in zip(a, b)),
        "refused_one_at_a_time": {"harmful": sum(a[:n_harmful]), "harmless": sum(a[n_harmful:])},
        "refused_batched": {"harmful": sum(b[:n_harmful]), "harmless": sum(b[n_harmful:])},
    }, indent=2))


if __name__ == "__main__":
    main()
