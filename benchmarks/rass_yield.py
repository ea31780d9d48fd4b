"""RASS on the default model: yield of the selected, verified-benign set beside a random sample of
the same size from the same pool and beside MORBench-lite's benign_sensitive rows; search on
(the default, one round) vs off (`--rounds 0`); cost per stage.

    python benchmarks/rass_yield.py [--langs en,fr,zh] [--n 20] [--pool-sample 60] [--probe runs/probe8] [--bench runs/full-v2]

Yield = share refused (refuse or partial) among the prompts the judge did not call harmful. The random
sample is drawn (seeded) from the same pool, answered and judged the same way; a sample of --n is
noisy (±11 points at 20), so a larger one (--pool-sample per language, another seeded draw) also
estimates the pool's refusal rate with a 95 % interval. MORBench-lite's figure comes from a finished
bench run (`--bench`). Runs are recorded under runs/rass-yield/ and resume; costs are the recorded
runs' own elapsed seconds (generate + select), so a resumed benchmark reports what the runs cost.
Prints one JSON object.
"""

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

from rass_lite.backends.llama import LlamaBackend
from rass_lite.generate.step import GenerateSpec
from rass_lite.refusal import is_refused
from rass_lite.refusal.detect import detect_refusal
from rass_lite.refusal.judge import Judge
from rass_lite.bench.stats import wilson
from rass_lite.runs import read_results, read_run
from rass_lite.select.step import ANSWER_TOKENS, BENIGN_CHOICES, BENIGN_RUBRIC


def rass(out: Path, args, rounds: int) -> float:
    """Run (or resume) rass; the seconds its recorded stages spent."""
    subprocess.run([sys.executable, "-m", "rass_lite", "rass", "--probe", args.probe, "--langs", args.langs,
                    "--n", str(args.n), "--rounds", str(rounds), "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
    return sum(read_run(out / stage).elapsed_s for stage in ("pool", "select"))


def answer_and_judge(model, judge, rows: list[dict]) -> None:
    answers = model.generate_batch([r["prompt"] for r in rows], max_tokens=ANSWER_TOKENS, batch_size=16)
    for r, a in zip(rows, answers):
        r["refusal"] = detect_refusal(r["prompt"], a, r["lang"]).label
        r["benign"] = judge.backend.choose(BENIGN_RUBRIC.format(lang=r["lang"], prompt=r["prompt"]), BENIGN_CHOICES)


def yields(rows: list[dict]) -> dict:
    out = {}
    for lang in sorted({r["lang"] for r in rows}):
        benign = [r for r in rows if r["lang"] == lang and r.get("benign") != "harmful"]
        k = sum(is_refused(r["refusal"]) for r in benign)
        out[lang] = {"refused": k, "benign": len(benign), "yield": round(k / len(benign), 3) if benign else None}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--langs", default="en,fr,zh")
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--probe", default="runs/probe8")
    parser.add_argument("--bench", default="runs/full-v2", help="a finished MORBench-lite bench run")
    parser.add_argument("--pool-sample", type=int, default=60, help="prompts per language for the pool's refusal rate")
    args = parser.parse_args()
    root = Path("runs/rass-yield")
    seconds = {"search_on": rass(root / "on", args, GenerateSpec.rounds), "search_off": rass(root / "off", args, 0)}

    selected = {k: [json.loads(line) for line in (root / k / "select" / "results.jsonl").read_text().splitlines()]
                for k in ("on", "off")}
    pool = [r for r in read_results(root / "on" / "pool").values() if r.get("kind") == "candidate"]
    rng = random.Random(0)
    sample = []
    for lang in args.langs.split(","):
        group = sorted((r for r in pool if r["lang"] == lang), key=lambda r: r["id"])
        sample += rng.sample(group, min(len([s for s in selected["on"] if s["lang"] == lang]), len(group)))
    wide_rng = random.Random(1)
    wide = []
    for lang in args.langs.split(","):
        group = sorted((r for r in pool if r["lang"] == lang), key=lambda r: r["id"])
        wide += [dict(r) for r in wide_rng.sample(group, min(args.pool_sample, len(group)))]
    model = LlamaBackend.load()
    judge = Judge(model)
    t = time.perf_counter()
    answer_and_judge(model, judge, sample)
    seconds["random_sample_verify"] = time.perf_counter() - t
    answer_and_judge(model, judge, wide)
    pool_rate = yields(wide)
    for y in pool_rate.values():
        y["ci95"] = [round(x, 3) for x in wilson(y["refused"], y["benign"])]

    bench = [r for r in read_results(args.bench).values() if r["label"] == "benign_sensitive"
             and r["lang"] in args.langs.split(",")]
    found = sum(y["refused"] for y in yields(selected["on"]).values())
    n_pool = len(pool)
    print(json.dumps({
        "langs": args.langs, "n_per_language": args.n, "pool_candidates": n_pool,
        "yield": {"rass_search_on": yields(selected["on"]), "rass_search_off": yields(selected["off"]),
                  "random_sample_same_pool": yields(sample), f"pool_rate_{args.pool_sample}_per_language": pool_rate,
                  "morbench_lite_benign_sensitive": yields(bench)},
        "benign_verdicts": {k: {v: sum(r.get("benign") == v for r in rows) for v in BENIGN_CHOICES}
                            for k, rows in (("on", selected["on"]), ("off", selected["off"]), ("random", sample))},
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
        "verified_overrefused_per_minute": round(found / (seconds["search_on"] / 60), 2),
    }, indent=2))


if __name__ == "__main__":
    main()
