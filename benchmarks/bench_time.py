"""Wall time of the bench on the default model: the quick check, and the full MORBench-lite measured
on a slice with the full set's mix (every n-th item in all languages) and scaled up, or run whole.

    python benchmarks/bench_time.py [--every 10 | --full] [--no-quick] [--max-tokens 48]

Prints one JSON object. Targets: quick check <= 300 s, full set <= 1800 s (2 cores).
"""

import argparse
import json
import tempfile
import time

from _prompts import morbench_slice

from rass_lite.bench import DEFAULT_MAX_TOKENS, run_bench
from rass_lite.bench.datasets import load_set, quick_sample
from rass_lite.backends.llama import LlamaBackend
from rass_lite.refusal.detect import detect_refusal


def timed_run(engine, records, max_tokens) -> float:
    with tempfile.TemporaryDirectory() as folder:
        t = time.perf_counter()
        run_bench(engine, records, folder, {"benchmark": True}, max_tokens=max_tokens,
                  label=lambda p, r, lang: detect_refusal(p, r, lang))
        return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--every", type=int, default=10, help="slice: every n-th item in all languages")
    parser.add_argument("--full", action="store_true", help="run the whole set instead of a slice")
    parser.add_argument("--no-quick", action="store_true", help="skip timing the quick check")
    parser.add_argument("--max-tokens", type=int, default=DEFAULT_MAX_TOKENS)
    args = parser.parse_args()

    t = time.perf_counter()
    engine = LlamaBackend.load()
    load_s = time.perf_counter() - t
    everything, _ = load_set("morbench-lite")
    out = {"model": engine.name, "max_tokens": args.max_tokens, "load_s": round(load_s, 2)}
    if not args.no_quick:
        quick = quick_sample(everything)
        out.update(quick_prompts=len(quick), quick_s=round(load_s + timed_run(engine, quick, args.max_tokens), 1))
    measured = everything if args.full else morbench_slice(args.every)
    seconds = timed_run(engine, measured, args.max_tokens)
    out.update(measured_prompts=len(measured), measured_s=round(seconds, 1),
               s_per_prompt=round(seconds / len(measured), 3), full_prompts=len(everything),
               full_s=round(load_s + seconds * len(everything) / len(measured), 1),
               full_is_estimate=not args.full)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
