"""Diversity among kept candidates: near-duplicates dropped, then greedy max-marginal-relevance with
quotas per group (language x category), on the candidates' captured states.

Pure numpy over arrays: `states` [n, d] (any layer's hidden states), `relevance` [n] (higher = more
wanted: closer to the boundary), `groups` [n] labels. The tests hold it equal to a brute force.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

import numpy as np

DUPLICATE_COSINE = 0.98  # states this close are the same request reworded (normalised-text dups too)
MMR_LAMBDA = 0.5  # relevance vs distance to what is already chosen, in equal parts


def normalised_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def _unit(states: np.ndarray) -> np.ndarray:
    states = np.asarray(states, np.float64)
    norms = np.linalg.norm(states, axis=1, keepdims=True)
    return states / np.where(norms == 0, 1, norms)


def drop_near_duplicates(texts: list[str], states: np.ndarray, relevance: np.ndarray,
                         cosine: float = DUPLICATE_COSINE) -> list[int]:
    """Indices kept, most relevant first: a candidate is dropped when its normalised text equals, or
    its state's cosine reaches `cosine` with, one already kept."""
    u = _unit(states)
    order = sorted(range(len(texts)), key=lambda i: (-relevance[i], i))
    kept, seen = [], set()
    for i in order:
        key = normalised_text(texts[i])
        if key in seen or (kept and float(np.max(u[kept] @ u[i])) >= cosine):
            continue
        kept.append(i)
        seen.add(key)
    return kept


def quotas(groups: list[str], n: int) -> dict[str, int]:
    """`n` slots shared as evenly as the groups' sizes allow (a small group's spare slots go to the
    others, largest first), so no group is starved and none takes everything."""
    sizes = Counter(groups)
    share = dict.fromkeys(sizes, 0)
    left = min(n, len(groups))
    while left:
        open_groups = sorted((g for g in sizes if share[g] < sizes[g]), key=lambda g: (share[g], -sizes[g], g))
        share[open_groups[0]] += 1
        left -= 1
    return share


def mmr_select(states: np.ndarray, relevance: np.ndarray, groups: list[str], n: int,
               lam: float = MMR_LAMBDA) -> list[int]:
    """Greedy MMR under per-group quotas: each step takes, among candidates whose group still has
    room, the one maximising lam * relevance - (1 - lam) * max cosine to those chosen (ties: lower
    index). Relevance is min-max scaled to [0, 1] first."""
    if n <= 0 or not len(groups):
        return []
    u = _unit(states)
    rel = np.asarray(relevance, np.float64)
    span = rel.max() - rel.min()
    rel = (rel - rel.min()) / span if span > 0 else np.zeros_like(rel)
    room = quotas(groups, n)
    chosen: list[int] = []
    nearest = np.full(len(groups), -np.inf)  # max cosine to the chosen ones
    while len(chosen) < min(n, len(groups)):
        penalty = np.where(np.isfinite(nearest), nearest, 0.0)
        value = lam * rel - (1 - lam) * penalty
        allowed = np.array([room[g] > 0 for g in groups]) & ~np.isin(np.arange(len(groups)), chosen)
        value = np.where(allowed, value, -np.inf)
        best = int(np.argmax(value))
        chosen.append(best)
        room[groups[best]] -= 1
        nearest = np.maximum(nearest, u @ u[best])
    return chosen
