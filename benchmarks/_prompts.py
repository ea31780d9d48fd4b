"""Benchmark prompts: the packaged probe prompts (real, varied lengths)."""

from rass_lite.probe import load_probe_set


def probe_prompts(n: int) -> list[str]:
    harmful = load_probe_set(None, "harmful").records
    harmless = load_probe_set(None, "harmless").records
    mixed = [r["prompt"] for pair in zip(harmful, harmless) for r in pair]
    return mixed[:n]
