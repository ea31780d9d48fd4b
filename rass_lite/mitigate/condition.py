"""Conditions that say whether a prompt is harmful or only looks it, from hidden states (pure numpy).

Three candidates, each a linear score s(h) = w·h (larger = more harmful), fitted on train items:
- `refusal`: the probe's refusal direction itself (CAST-style threshold on the same axis);
- `harm_mean`: difference of means harmful − benign_sensitive (at a layer, at a token position:
  the last token of the instruction, where published work finds harmfulness encoded apart from
  refusal, or the last prompt token);
- `harm_ridge`: a ridge-regularised Fisher discriminant on the full state,
  w = (Σ_within + λ·tr(Σ)/d·I)⁻¹ (μ_harmful − μ_benign_sensitive), closed form, no iterations.
A condition fires (harmful) when s ≥ threshold; the threshold is fitted on train scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..probe.directions import ridge_fisher

RIDGE = 1.0  # shrinkage in units of the mean variance; strong, since there are fewer items than dims


@dataclass(frozen=True)
class Condition:
    kind: str  # refusal | harm_mean | harm_ridge
    layer: int
    position: str  # last | instruction
    weights: np.ndarray  # [n_embd]
    threshold: float  # s >= threshold: harmful (do not steer)
    held_out_catch: float | None = None  # share of held-out train harmful prompts the threshold's rule catches

    def score(self, states: np.ndarray) -> np.ndarray:
        return np.asarray(states, np.float64) @ self.weights.astype(np.float64)

    def harmful(self, states: np.ndarray) -> np.ndarray:
        return self.score(states) >= self.threshold


def mean_direction(harmful: np.ndarray, benign: np.ndarray) -> np.ndarray:
    w = harmful.astype(np.float64).mean(0) - benign.astype(np.float64).mean(0)
    return w / (np.linalg.norm(w) or 1.0)


def balanced_threshold(harmful_scores: np.ndarray, benign_scores: np.ndarray) -> float:
    """The cut that maximises balanced accuracy on train scores (midpoint between neighbours)."""
    scores = np.sort(np.unique(np.concatenate([harmful_scores, benign_scores])))
    cuts = np.concatenate([[scores[0] - 1], (scores[1:] + scores[:-1]) / 2, [scores[-1] + 1]])
    best, best_acc = cuts[0], -1.0
    for c in cuts:
        acc = 0.5 * (np.mean(harmful_scores >= c) + np.mean(benign_scores < c))
        if acc > best_acc:
            best, best_acc = c, acc
    return float(best)


def fit_condition(kind: str, layer: int, position: str, harmful: np.ndarray, benign: np.ndarray,
                  refusal_direction: np.ndarray | None = None) -> Condition:
    """`harmful`, `benign` [n, n_embd]: train states of harmful and benign_sensitive prompts."""
    if kind == "refusal":
        w = refusal_direction / np.linalg.norm(refusal_direction)
    elif kind == "harm_mean":
        w = mean_direction(harmful, benign)
    elif kind == "harm_ridge":
        w = ridge_fisher(harmful, benign, RIDGE)
    else:
        raise ValueError(kind)
    w = np.asarray(w, np.float32)
    t = balanced_threshold(harmful.astype(np.float64) @ w, benign.astype(np.float64) @ w)
    return Condition(kind, layer, position, w, t)
