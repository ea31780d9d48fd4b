"""MORBench-lite and users' sets (datasets), the resumable bench runner, reports and their statistics."""

from .runner import BATCH_SIZE, DEFAULT_MAX_TOKENS, BenchSpec, run_bench

__all__ = ["BATCH_SIZE", "DEFAULT_MAX_TOKENS", "BenchSpec", "run_bench"]
