"""The lookahead behaviour score: let the model open its answer (a few greedy tokens, the plain path, so
a prompt's score never depends on the prompts scored beside it), then read that opening with the
refusal probe. logit P(refused) of the opening is the score.

Why: the 0.5B default model often decides to decline a few words into its answer ("Como asistente de
inteligencia artificial, no tengo la capacidad …"), where the prompt's last state and the first-token
probability cannot see it yet; the opening shows it (README, method). The opening is read, never
written to a record: an answer to a harmful prompt stays out of files.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..backends.base import ActivationBackend, TextBackend, never
from ..probe.behaviour import logit
from ..progress import Cancelled, Progress
from ..refusal.state_probe import StateProbe

LOOKAHEAD_TOKENS = 12  # as good as 24 on hand labels, at half the generation (README, method)
P_CLIP = 1e-4  # a probe's probability of exactly 0 or 1 would give an infinite logit


def openings(target: TextBackend, prompts: Sequence[str], tokens: int, *, progress: Progress | None = None,
             should_stop: Callable[[], bool] = never) -> list[str]:
    """The first `tokens` greedy tokens of each answer, one prompt at a time."""
    out = []
    for i, prompt in enumerate(prompts):
        if should_stop():
            raise Cancelled()
        out.append(target.generate(prompt, max_tokens=tokens, temperature=0.0))
        if progress is not None:
            progress(i + 1, len(prompts), "opening answers")
    return out


def lookahead_scores(target: TextBackend, reader: ActivationBackend, head: StateProbe, prompts: Sequence[str],
                     tokens: int = LOOKAHEAD_TOKENS, *, progress: Progress | None = None,
                     should_stop: Callable[[], bool] = never) -> np.ndarray:
    """logit P(refused) [n] of each prompt's opening, read by `reader` (the model `head` was fitted on).
    Progress runs over both halves: opening the answers, then reading them."""
    n = len(prompts)
    def half(offset: int):
        return None if progress is None else (lambda done, total, msg="": progress(offset + done, 2 * n, msg))
    opened = openings(target, prompts, tokens, progress=half(0), should_stop=should_stop)
    p = head.p_refused(reader, prompts, opened, progress=half(n), should_stop=should_stop)
    return logit(np.clip(p, P_CLIP, 1 - P_CLIP))
