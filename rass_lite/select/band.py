"""Which candidates sit near the target's boundary: a band on the behaviour score (the logit of
P(refuse) from the projection and the first-token refusal probability: 0 on the boundary, > 0 on
the refusing side)."""

from __future__ import annotations

import numpy as np

from ..errors import InputError

# The refusing side of the boundary up to a limit (README, method: "selection band"): prompts the
# model refuses, but not firmly. Measured on verified selections: every one scored >= 0 was refused,
# under half of those in -1 ... 0; beyond +4 (P(refuse) > 0.98) a refusal is firm and steering
# rarely flips it.
DEFAULT_BAND = (0.0, 4.0)


def check_band(low: float, high: float) -> tuple[float, float]:
    if not low < high:
        raise InputError(f"--band {low},{high}: the low end must be below the high end (e.g. --band 0,4)")
    return float(low), float(high)


def in_band(scores: np.ndarray, band: tuple[float, float] = DEFAULT_BAND) -> np.ndarray:
    scores = np.asarray(scores, np.float64)
    return (scores >= band[0]) & (scores <= band[1])
