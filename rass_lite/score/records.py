"""Boundary scores for prompt records on the target model.

Field contract: `projection` is the position along the refusal direction (what separates harmful
from harmless); `score` is the behaviour score, the logit of P(refuse) from the projection and the
first-token refusal probability of the same full pass (0 on the boundary, > 0 on the refusing
side), `p_refuse` its probability and `zone` follows it. With `fast` (or a probe without a
behaviour score) only the cheap screen runs: a pass that stops at the probe layer, and the score
is the projection's boundary logit. With `lookahead` tokens (and a refusal probe to read with), the
score is the lookahead score instead: the refusal probe's logit P(refused) of the model's own opening
(`lookahead.py`), the better predictor of its refusals at about 1.6 s a prompt. `score_from`
says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..backends.base import ActivationBackend, never
from ..errors import ProbeError
from ..probe import Probe, zone
from ..probe.boundary import sigmoid
from ..probe.directions import project
from ..progress import Progress
from ..refusal.first_token import p_refuse_first_tokens, p_refuse_weighted
from ..refusal.state_probe import StateProbe
from .capture_file import load_capture
from .lookahead import LOOKAHEAD_TOKENS, lookahead_scores


@dataclass(frozen=True)
class Lookahead:
    """What the lookahead score reads with: the refusal probe's head and the model it was fitted on
    (the target itself when it is that model)."""
    reader: ActivationBackend
    head: StateProbe
    tokens: int = LOOKAHEAD_TOKENS


def score_records(backend: ActivationBackend, probe: Probe, records: list[dict], *, band: float = 1.0,
                  fast: bool = False, lookahead: Lookahead | None = None, progress: Progress | None = None,
                  should_stop: Callable[[], bool] = never) -> list[dict]:
    """Each input record with score, p_refuse, projection, p_first_token, layer and zone added."""
    prompts = [r["prompt"] for r in records]
    p_first = None
    if fast or probe.behaviour is None:
        hidden = backend.capture(prompts, [probe.layer], stop_at_layer=True, progress=progress, should_stop=should_stop)
    else:
        p_first, hidden = first_token_signal(backend, probe, prompts, [r.get("lang", "en") for r in records],
                                             layers=[probe.layer], progress=progress, should_stop=should_stop)
    ahead = None if lookahead is None else lookahead_scores(
        backend, lookahead.reader, lookahead.head, prompts, lookahead.tokens, progress=progress, should_stop=should_stop)
    return with_scores(records, probe, project(hidden[:, 0], probe.direction), band, p_first,
                       ahead, None if lookahead is None else lookahead.tokens)


def first_token_signal(backend: ActivationBackend, probe: Probe, prompts: list[str], langs: list[str], *,
                       layers=None, progress: Progress | None = None, should_stop: Callable[[], bool] = never):
    """(P_first [n], states or None) read as the probe's behaviour score was fitted: under its learned
    token weights, else the marker openers of each prompt's language. One full pass per prompt, the
    shared chat prefix decoded once (equal to the plain path within 1e-4, tested)."""
    if probe.first_token_weights is not None:
        return p_refuse_weighted(backend, prompts, probe.first_token_weights, layers=layers, progress=progress,
                                 should_stop=should_stop)
    return p_refuse_first_tokens(backend, prompts, langs, layers=layers, progress=progress, should_stop=should_stop)


def with_scores(records: list[dict], probe: Probe, proj, band: float, p_first=None, ahead=None,
                lookahead_tokens: int | None = None) -> list[dict]:
    """The score fields; `ahead` (lookahead scores) replaces the probe's score when given."""
    scores = np.atleast_1d(probe.score(proj, p_first)) if ahead is None else ahead
    firsts = [None] * len(records) if p_first is None else [round(float(p), 4) for p in p_first]
    source = "lookahead" if ahead is not None else \
        "projection" if p_first is None or probe.behaviour is None else "behaviour"
    extra = {} if ahead is None else {"lookahead_tokens": lookahead_tokens}
    return [
        {**r, "score": round(float(s), 4), "p_refuse": round(float(sigmoid(s)), 4),
         "projection": round(float(x), 4), "p_first_token": f, "score_from": source,
         "layer": probe.layer, "zone": zone(float(s), band), **extra}
        for r, s, x, f in zip(records, scores, proj, firsts)
    ]


def score_capture_file(probe: Probe, path: str, *, band: float = 1.0, force: bool = False) -> list[dict]:
    """Scores from an .npz written by `rass-lite capture` (no model needed, so the projection's)."""
    cap = load_capture(path)
    if cap.meta.get("model_sha256") != probe.model_sha256 and not force:
        raise ProbeError(f"{path} was captured from another model than the probe's {probe.model}; pass --force to score anyway")
    if probe.layer not in cap.layers:
        raise ProbeError(f"{path} holds layers {cap.layers[0]}-{cap.layers[-1]} but the probe needs layer {probe.layer}; "
                         f"capture with --layers {probe.layer}")
    proj = project(cap.hidden[:, cap.layers.index(probe.layer)], probe.direction)
    langs = cap.meta.get("langs") or ["en"] * len(cap.ids)
    return with_scores([{"id": i, "lang": lang} for i, lang in zip(cap.ids, langs)], probe, proj, band)
