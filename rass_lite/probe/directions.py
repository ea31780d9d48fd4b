"""Refusal directions per layer and how well each layer separates harmful from harmless prompts.

Sign convention (one place): direction = mean(harmful) - mean(harmless), so a larger projection
points toward refusal. Adding +alpha * raw direction pushes a model toward refusing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def difference_of_means(harmful: np.ndarray, harmless: np.ndarray) -> np.ndarray:
    """[n_h, n_layers, n_embd], [n_b, n_layers, n_embd] -> raw directions [n_layers, n_embd]."""
    return (harmful.astype(np.float64).mean(axis=0) - harmless.astype(np.float64).mean(axis=0)).astype(np.float32)


def unit(directions: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (zero rows stay zero)."""
    norms = np.linalg.norm(directions, axis=-1, keepdims=True)
    return directions / np.where(norms == 0, 1, norms)


def project(hidden: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Project H (n, d) onto a unit direction (d,) -> (n,)."""
    return hidden.astype(np.float64) @ direction.astype(np.float64)


def auroc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(score of a random positive > score of a random negative), ties counted half (Mann-Whitney)."""
    scores = np.concatenate([positive, negative])
    ranks = _average_ranks(scores)
    n_pos, n_neg = len(positive), len(negative)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _average_ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), np.float64)
    sorted_x = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and sorted_x[j + 1] == sorted_x[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def cohens_d(positive: np.ndarray, negative: np.ndarray) -> float:
    """Mean difference in units of the pooled standard deviation."""
    n1, n2 = len(positive), len(negative)
    pooled = np.sqrt(((n1 - 1) * positive.var(ddof=1) + (n2 - 1) * negative.var(ddof=1)) / (n1 + n2 - 2))
    return float((positive.mean() - negative.mean()) / pooled) if pooled > 0 else float("inf")


@dataclass(frozen=True)
class LayerScore:
    layer: int
    auroc: float  # validation harmful vs harmless
    cohens_d: float
    norm: float  # length of the raw direction
    eligible: bool  # outside the skipped first/last layers
    behaviour_auroc: float | None = None  # projection vs the model's actual refusals, when known

    def as_dict(self) -> dict:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


SKIP_FIRST = 2  # the first blocks mostly encode surface tokens
SKIP_LAST_FRACTION = 0.2  # the last ~20 % prepare the output vocabulary (refusal_direction does the same)
AUROC_DECIMALS = 3  # AUROCs equal to this many decimals count as a tie


def eligible_layers(n_layers: int) -> range:
    return range(SKIP_FIRST, int(np.ceil(n_layers * (1 - SKIP_LAST_FRACTION))))


def score_layers(directions: np.ndarray, val_harmful: np.ndarray, val_harmless: np.ndarray) -> list[LayerScore]:
    """Separation of held-out projections on every layer's unit direction."""
    n_layers = directions.shape[0]
    units = unit(directions)
    eligible = set(eligible_layers(n_layers))
    scores = []
    for il in range(n_layers):
        pos, neg = project(val_harmful[:, il], units[il]), project(val_harmless[:, il], units[il])
        scores.append(LayerScore(il, auroc(pos, neg), cohens_d(pos, neg), float(np.linalg.norm(directions[il])), il in eligible))
    return scores


def choose_layer(scores: list[LayerScore]) -> LayerScore:
    """Best validation AUROC among eligible layers; ties go to the better behaviour AUROC when known,
    then to the earlier layer."""
    candidates = [s for s in scores if s.eligible]

    def key(s: LayerScore):
        return (round(s.auroc, AUROC_DECIMALS), s.behaviour_auroc if s.behaviour_auroc is not None else 0.0, -s.layer)

    return max(candidates, key=key)
