"""Wall time of `rass-lite bench --quick` and of the full MORBench-lite on the default model,
the full set extrapolated from a measured slice (the same items in every language and label).

    python benchmarks/bench_time.py [--per-cell 3] [--max-tokens 48]

Prints one JSON object. Targets: quick check <= 300 s, full set <= 1800 s (2 cores).
"""

import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict

from rass_lite.bench import DEFAULT_MAX_TOKENS, run_bench
from rass_lite.datasets import load_set, quick_sample, select, stats
from rass_lite.engine import Engine
from rass_lite.refusal.detect import detect_refusal


def timed_run(engine, records, max_tokens) -> tuple[float, list[float]]:
    per_record = []
    with tempfile.TemporaryDirectory() as folder:
        t = time.perf_counter()
        run_bench(engine, records, folder, {"benchmark": True}, max_tokens=max_tokens,
                  label=lambda p, r, lang: detect_refusal(p, r, lang))
        total = time.perf_counter() - t
        with open(f"{folder}/results.jsonl", encoding="utf-8") as f:
            per_record = [json.loads(line)["seconds"] for line in f]
    return total, per_record


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-cell", type=int, default=3, help="prompts per language x label in the slice")
    parser.add_argument("--max-tokens", type=int, default=DEFAULT_MAX_TOKENS)
    parser.add_argument("--no-quick", action="store_true", help="only the slice (time the quick check yourself)")
    args = parser.parse_args()

    t = time.perf_counter()
    engine = Engine.load()
    load_s = time.perf_counter() - t
    everything, _ = load_set("morbench-lite")
    quick = quick_sample(everything)
    quick_s = None if args.no_quick else timed_run(engine, quick, args.max_tokens)[0] + load_s

    sliced = select(everything, limit=args.per_cell)
    _, seconds = timed_run(engine, sliced, args.max_tokens)
    mean_by_cell = defaultdict(list)
    for r, s in zip(sliced, seconds):
        mean_by_cell[r["lang"], r["label"]].append(s)
    counts = stats(everything)
    full_estimate = sum(statistics.mean(mean_by_cell[lang, label]) * n
                        for lang, by_label in counts.items() for label, n in by_label.items())
    print(json.dumps({
        "model": engine.name,
        "max_tokens": args.max_tokens,
        "load_s": round(load_s, 2),
        "quick_prompts": len(quick),
        "quick_s": None if quick_s is None else round(quick_s, 1),
        "slice_prompts": len(sliced),
        "slice_s_per_prompt": round(statistics.mean(seconds), 3),
        "full_prompts": len(everything),
        "full_estimate_s": round(full_estimate + load_s, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
