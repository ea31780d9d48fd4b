"""Refusal directions per layer and how well each layer separates harmful from harmless prompts.

Sign convention (one place): direction = mean(harmful) - mean(harmless), so a larger projection
points toward refusal. Adding +alpha * raw direction pushes a model toward refusing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


def difference_of_means(harmful: np.ndarray, harmless: np.ndarray) -> np.ndarray:
    """[n_h, n_layers, n_embd], [n_b, n_layers, n_embd] -> raw directions [n_layers, n_embd]."""
    return (harmful.astype(np.float64).mean(axis=0) - harmless.astype(np.float64).mean(axis=0)).astype(np.float32)


def difference_of_means_by_language(hidden: np.ndarray, is_harmful: np.ndarray, langs: np.ndarray) -> np.ndarray:
    """The mean over languages of each language's difference of means, so every language counts
    the same whatever its number of prompts (with one language: `difference_of_means`)."""
    per_lang = [difference_of_means(hidden[is_harmful & (langs == lang)], hidden[~is_harmful & (langs == lang)])
                for lang in sorted(set(langs.tolist()))]
    return np.mean(np.stack(per_lang).astype(np.float64), axis=0).astype(np.float32)


def ridge_fisher(harmful: np.ndarray, harmless: np.ndarray, ridge: float) -> np.ndarray:
    """A ridge-regularised Fisher discriminant, unit length: w = (S + ridge * tr(S)/d * I)^-1 (mu_h - mu_b)
    with S the pooled within-class covariance (closed form, no iterations). It separates the classes
    along their difference of means after discounting directions that vary a lot within a class
    (the language, the phrasing): the score axis where the raw difference is the steering axis."""
    h, b = harmful.astype(np.float64), harmless.astype(np.float64)
    centred = np.concatenate([h - h.mean(0), b - b.mean(0)])
    cov = centred.T @ centred / max(1, len(centred) - 2)
    d = cov.shape[0]
    cov += ridge * np.trace(cov) / d * np.eye(d)
    w = np.linalg.solve(cov, h.mean(0) - b.mean(0))
    return w / (np.linalg.norm(w) or 1.0)


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
    per_language: dict | None = None  # validation AUROC per language; `auroc` is the worst of them
    ridge: float | None = None  # the score axis' shrinkage (None: the raw difference of means)
    mean_diff_auroc: float | None = None  # worst-language AUROC of the raw difference of means

    def as_dict(self) -> dict:
        out = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in self.__dict__.items()}
        if self.per_language is not None:
            out["per_language"] = {k: round(v, 6) for k, v in self.per_language.items()}
        return out


SKIP_FIRST = 2  # the first blocks mostly encode surface tokens
SKIP_LAST_FRACTION = 0.2  # the last ~20 % prepare the output vocabulary (refusal_direction does the same)
AUROC_DECIMALS = 3  # AUROCs equal to this many decimals count as a tie


def eligible_layers(n_layers: int) -> range:
    return range(SKIP_FIRST, int(np.ceil(n_layers * (1 - SKIP_LAST_FRACTION))))


def score_layers(directions: np.ndarray, val_harmful: np.ndarray, val_harmless: np.ndarray,
                 harmful_langs: np.ndarray | None = None, harmless_langs: np.ndarray | None = None) -> list[LayerScore]:
    """Separation of held-out projections on every layer's unit direction: AUROC per language (with
    the languages given) and its worst value, which the layer choice reads, so a layer that only
    works in English is not chosen."""
    n_layers = directions.shape[0]
    units = unit(directions)
    eligible = set(eligible_layers(n_layers))
    langs = sorted(set(harmful_langs.tolist())) if harmful_langs is not None else []
    scores = []
    for il in range(n_layers):
        pos, neg = project(val_harmful[:, il], units[il]), project(val_harmless[:, il], units[il])
        per_lang = {lang: auroc(pos[harmful_langs == lang], neg[harmless_langs == lang]) for lang in langs}
        worst = min(per_lang.values()) if per_lang else auroc(pos, neg)
        scores.append(LayerScore(il, worst, cohens_d(pos, neg), float(np.linalg.norm(directions[il])), il in eligible,
                                 per_language=per_lang if len(per_lang) > 1 else None))
    return scores


RIDGES = (0.1, 1.0, 10.0)  # the score axis' shrinkage, chosen per layer on the validation split


def ridge_axes(train_harmful: np.ndarray, train_harmless: np.ndarray, val_harmful: np.ndarray,
               val_harmless: np.ndarray, harmful_langs: np.ndarray, harmless_langs: np.ndarray,
               scores: list[LayerScore]) -> tuple[list[LayerScore], dict[int, np.ndarray]]:
    """Every eligible layer's ridge discriminant at the shrinkage (of RIDGES) with the best
    worst-language validation AUROC: the layer scores re-read on that axis (the raw difference's
    AUROC kept beside it) and the unit axes by layer."""
    langs = sorted(set(harmful_langs.tolist()))
    out, axes = [], {}
    for s in scores:
        if not s.eligible:
            out.append(s)
            continue
        il, best = s.layer, None
        for ridge in RIDGES:
            w = ridge_fisher(train_harmful[:, il], train_harmless[:, il], ridge)
            pos, neg = val_harmful[:, il] @ w, val_harmless[:, il] @ w
            per = {lang: auroc(pos[harmful_langs == lang], neg[harmless_langs == lang]) for lang in langs}
            worst = min(per.values())
            if best is None or round(worst, AUROC_DECIMALS) > round(best[0], AUROC_DECIMALS):
                best = (worst, per, ridge, w, cohens_d(pos, neg))
        worst, per, ridge, w, d = best
        axes[il] = w.astype(np.float32)
        out.append(replace(s, auroc=worst, cohens_d=d, per_language=per if len(per) > 1 else None, ridge=ridge,
                           mean_diff_auroc=s.auroc))
    return out, axes


def choose_layer(scores: list[LayerScore]) -> LayerScore:
    """Best validation AUROC (the worst language's) among eligible layers; ties go to the better
    behaviour AUROC when known, then to the earlier layer."""
    candidates = [s for s in scores if s.eligible]

    def key(s: LayerScore):
        return (round(s.auroc, AUROC_DECIMALS), s.behaviour_auroc if s.behaviour_auroc is not None else 0.0, -s.layer)

    return max(candidates, key=key)
