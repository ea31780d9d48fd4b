"""Which rewrite operator to try next: UCB1 over the operators' rewards so far (a reward is how far
a child moved toward the boundary: 1 when it crossed it, else the rise in P(refuse), clipped at 0).

A round asks all its rewrites before any reward is known, so `pick` counts the pull at once (a
pending pull weighs as reward 0 until `reward` adds its value): picks within a round spread over the
operators instead of repeating one. Deterministic: ties go to the operator listed first."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

EXPLORATION = 0.5  # rewards live in [0, 1]; sqrt(2) explores too long for a few dozen pulls


@dataclass
class OperatorBandit:
    operators: tuple[str, ...]
    pulls: dict[str, int] = field(default_factory=dict)
    total: dict[str, float] = field(default_factory=dict)

    def pick(self) -> str:
        untried = [op for op in self.operators if not self.pulls.get(op)]
        if untried:
            op = untried[0]
        else:
            n = sum(self.pulls.values())

            def ucb(op: str) -> float:
                return self.total.get(op, 0.0) / self.pulls[op] + EXPLORATION * math.sqrt(math.log(n) / self.pulls[op])

            op = max(self.operators, key=lambda op: (ucb(op), -self.operators.index(op)))
        self.pulls[op] = self.pulls.get(op, 0) + 1
        return op

    def reward(self, op: str, value: float) -> None:
        """The reward of a pull that `pick` already counted."""
        self.total[op] = self.total.get(op, 0.0) + min(1.0, max(0.0, value))

    def summary(self) -> dict:
        return {op: {"pulls": self.pulls.get(op, 0),
                     "mean_reward": round(self.total.get(op, 0.0) / self.pulls[op], 4) if self.pulls.get(op) else None}
                for op in self.operators}


def child_reward(p_parent: float, p_child: float) -> float:
    return 1.0 if p_child >= 0.5 > p_parent else max(0.0, p_child - p_parent)
