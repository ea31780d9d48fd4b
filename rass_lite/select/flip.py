"""Flip scale: the smallest steering strength along the refusal direction at which the target's
first-token refusal probability crosses 0.5 — a behaviour-grounded distance to the boundary that
needs a few forward passes per prompt and no generation.

The strength alpha multiplies the probe's raw directions on its steering blocks (the unit the
global-steering figures use: -0.5 turns many overrefusals into answers). A refused prompt is
searched on alpha < 0, an answered one on alpha > 0; the answer is signed (negative: it flips to
answering). None when it does not flip within |alpha| <= MAX_ALPHA.
"""

from __future__ import annotations

from ..backends.base import ActivationBackend
from ..probe import Probe
from ..refusal.first_token import p_refuse_first_token

MAX_ALPHA = 1.0  # beyond -1 x the raw direction the default model's output degenerates
BISECTIONS = 5  # |alpha| to within 1/32


def p_refuse_at(model: ActivationBackend, probe: Probe, prompt: str, lang: str, alpha: float) -> float:
    if alpha == 0:
        return p_refuse_first_token(model, prompt, lang)
    with model.steering(probe.vectors.directions, alpha, probe.steering_blocks):
        return p_refuse_first_token(model, prompt, lang)


def flip_scale(model: ActivationBackend, probe: Probe, prompt: str, lang: str = "en", *,
               p0: float | None = None, max_alpha: float = MAX_ALPHA, bisections: int = BISECTIONS) -> float | None:
    """Signed alpha where P(refuse) crosses 0.5 (bisection on [0, ±max_alpha]), or None."""
    p0 = p_refuse_at(model, probe, prompt, lang, 0.0) if p0 is None else p0
    refused = p0 >= 0.5
    far = -max_alpha if refused else max_alpha
    if (p_refuse_at(model, probe, prompt, lang, far) >= 0.5) == refused:
        return None
    near = 0.0
    for _ in range(bisections):
        mid = (near + far) / 2
        if (p_refuse_at(model, probe, prompt, lang, mid) >= 0.5) == refused:
            near = mid
        else:
            far = mid
    return round(far, 4)
