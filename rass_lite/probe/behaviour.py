"""The behaviour score: how likely the model is to refuse a prompt, from the two signals one full
forward pass gives — the projection on the refusal direction (what separates harmful from harmless)
and the first-token refusal probability (what the model is about to say).

    score = w_p * projection + w_f * logit(P_first) + b,   P(refuse) = sigmoid(score)

fitted by logistic regression on the model's own refusals to the probe prompts' train split: 0 on
the boundary, > 0 on the refusing side (the field contract of `score`). Without first-token
probabilities (a capture file, an old probe) the projection boundary stands in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .boundary import MIN_PER_SIDE, fit_logistic_many, sigmoid

EPS = 1e-6  # P_first is clipped to [EPS, 1 - EPS] before its logit


def logit(p: np.ndarray | float) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), EPS, 1 - EPS)
    return np.log(p / (1 - p))


@dataclass(frozen=True)
class BehaviourScore:
    w_projection: float
    w_first_token: float
    intercept: float

    def score(self, projection, p_first) -> np.ndarray:
        return (self.w_projection * np.asarray(projection, np.float64) + self.w_first_token * logit(p_first)
                + self.intercept)

    def p_refuse(self, projection, p_first) -> np.ndarray:
        return sigmoid(self.score(projection, p_first))

    def as_dict(self) -> dict:
        return {"w_projection": self.w_projection, "w_first_token": self.w_first_token, "intercept": self.intercept}

    @classmethod
    def from_dict(cls, d: dict) -> "BehaviourScore":
        return cls(float(d["w_projection"]), float(d["w_first_token"]), float(d["intercept"]))


def fit_behaviour_score(projection: np.ndarray, p_first: np.ndarray, refused: np.ndarray) -> BehaviourScore | None:
    """Logistic fit on the model's own refusals; None with too few refusals or answers to fit."""
    refused = np.asarray(refused, bool)
    if min(int(refused.sum()), int((~refused).sum())) < MIN_PER_SIDE:
        return None
    w, b = fit_logistic_many(np.stack([projection, logit(p_first)], axis=1), refused)
    return BehaviourScore(float(w[0]), float(w[1]), b)
