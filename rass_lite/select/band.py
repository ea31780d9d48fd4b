"""Which candidates sit near the target's boundary: a band on the behaviour score (the logit of the
first-token refusal probability: 0 on the boundary, > 0 on the refusing side)."""

from __future__ import annotations

import numpy as np

from ..errors import InputError

# The boundary zone plus the refusing side up to a limit (README, method: "selection band"):
# prompts the model refuses but only just, or nearly refuses. Beyond +4 (P(refuse) > 0.98) a
# refusal is firm and steering rarely flips it; below -1 the model answers comfortably.
DEFAULT_BAND = (-1.0, 4.0)


def check_band(low: float, high: float) -> tuple[float, float]:
    if not low < high:
        raise InputError(f"--band {low},{high}: the low end must be below the high end (e.g. --band -1,4)")
    return float(low), float(high)


def logit(p: np.ndarray | float, eps: float = 1e-6) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), eps, 1 - eps)
    return np.log(p / (1 - p))


def in_band(scores: np.ndarray, band: tuple[float, float] = DEFAULT_BAND) -> np.ndarray:
    scores = np.asarray(scores, np.float64)
    return (scores >= band[0]) & (scores <= band[1])
