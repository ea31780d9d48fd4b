"""The decision boundary on one layer's refusal direction, and a prompt's distance to it.

Fitted on behaviour: P(refuse | projection) = sigmoid(a * projection + b) by 1-D logistic
regression. The score is that logit: 0 on the boundary, > 0 on the refusing side. Without enough
refusals and compliances, the fallback puts the boundary midway between the class means and scales
by their pooled standard deviation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_PER_SIDE = 5  # fewer refusals (or compliances) than this cannot place a logistic boundary
ZONES = ("comply", "boundary", "refuse")


@dataclass(frozen=True)
class Boundary:
    slope: float
    intercept: float
    method: str  # "logistic" (behaviour) or "midpoint" (class means)

    @property
    def threshold(self) -> float:
        """Projection where P(refuse) = 0.5."""
        return -self.intercept / self.slope

    def score(self, projection: np.ndarray | float) -> np.ndarray | float:
        return self.slope * np.asarray(projection, np.float64) + self.intercept

    def p_refuse(self, projection: np.ndarray | float) -> np.ndarray | float:
        return sigmoid(self.score(projection))

    def as_dict(self) -> dict:
        return {"method": self.method, "slope": self.slope, "intercept": self.intercept, "threshold": self.threshold}


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def zone(score: float, band: float = 1.0) -> str:
    if score > band:
        return "refuse"
    if score < -band:
        return "comply"
    return "boundary"


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 100) -> tuple[float, float]:
    """P(y=1|x) = sigmoid(a*x + b) for one feature (`fit_logistic_many` with one column)."""
    w, b = fit_logistic_many(np.asarray(x, np.float64)[:, None], y, l2, iters)
    return float(w[0]), b


def fit_logistic_many(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 100) -> tuple[np.ndarray, float]:
    """Newton's method for P(y=1|x) = sigmoid(x @ w + b) on standardised columns, with a small ridge
    so perfectly separated data still gives finite weights (l2 = 1 is mild next to a few hundred
    points). Returns (w in the original units, b)."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    mu, sd = x.mean(axis=0), x.std(axis=0)
    sd = np.where(sd == 0, 1.0, sd)
    z = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    k = x.shape[1]
    ridge = l2 * np.diag([1.0] * k + [0.0])
    w = np.zeros(k + 1)
    for _ in range(iters):
        p = sigmoid(z @ w)
        grad = z.T @ (p - y) + ridge @ w
        hess = (z.T * (p * (1 - p))) @ z + ridge + 1e-9 * np.eye(k + 1)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    weights = w[:k] / sd
    return weights, float(w[k] - weights @ mu)


def fit_boundary(projections: np.ndarray, refused: np.ndarray | None,
                 harmful_proj: np.ndarray, harmless_proj: np.ndarray) -> Boundary:
    """Logistic on behaviour when both outcomes occur at least MIN_PER_SIDE times, else midpoint."""
    if refused is not None:
        n_ref = int(np.sum(refused))
        if min(n_ref, len(refused) - n_ref) >= MIN_PER_SIDE:
            slope, intercept = fit_logistic(projections, refused)
            if slope > 0:
                return Boundary(slope, intercept, "logistic")
    n1, n2 = len(harmful_proj), len(harmless_proj)
    pooled = np.sqrt(((n1 - 1) * harmful_proj.var(ddof=1) + (n2 - 1) * harmless_proj.var(ddof=1)) / (n1 + n2 - 2))
    mid = (harmful_proj.mean() + harmless_proj.mean()) / 2
    return Boundary(float(1 / pooled), float(-mid / pooled), "midpoint")
