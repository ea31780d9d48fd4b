"""Benchmark prompts: the packaged probe prompts (real, varied lengths)."""

from rass_lite.probe import load_probe_set


def probe_prompts(n: int) -> list[str]:
    harmful = load_probe_set(None, "harmful").records
    harmless = load_probe_set(None, "harmless").records
    mixed = [r["prompt"] for pair in zip(harmful, harmless) for r in pair]
    return mixed[:n]


def morbench_slice(every: int) -> list[dict]:
    """Every `every`-th MORBench-lite item, in all eight languages: the full set's mix of languages,
    labels and categories at 1/`every` of its size."""
    from rass_lite.bench.datasets import load_set

    records, _ = load_set("morbench-lite")
    items = sorted({r["item"] for r in records})[::every]
    keep = set(items)
    return [r for r in records if r["item"] in keep]
