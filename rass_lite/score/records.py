"""Boundary scores for prompt records on the target model: the fast path decodes only up to the
probe layer and reuses the KV cache of the chat prefix all prompts share."""

from __future__ import annotations

from typing import Callable

from ..backends.base import ActivationBackend, never
from ..errors import ProbeError
from ..probe import Probe, zone
from ..probe.directions import project
from ..progress import Progress
from .capture_file import load_capture


def score_records(backend: ActivationBackend, probe: Probe, records: list[dict], *, band: float = 1.0,
                  progress: Progress | None = None, should_stop: Callable[[], bool] = never) -> list[dict]:
    """Each input record with score, p_refuse, projection, layer and zone added."""
    hidden = backend.capture([r["prompt"] for r in records], [probe.layer], stop_at_layer=True,
                             progress=progress, should_stop=should_stop)
    return with_scores(records, probe, project(hidden[:, 0], probe.direction), band)


def with_scores(records: list[dict], probe: Probe, proj, band: float) -> list[dict]:
    scores, p = probe.boundary.score(proj), probe.boundary.p_refuse(proj)
    return [
        {**r, "score": round(float(s), 4), "p_refuse": round(float(q), 4), "projection": round(float(x), 4),
         "layer": probe.layer, "zone": zone(float(s), band)}
        for r, s, q, x in zip(records, scores, p, proj)
    ]


def score_capture_file(probe: Probe, path: str, *, band: float = 1.0, force: bool = False) -> list[dict]:
    """Scores from an .npz written by `rass-lite capture` (no model needed)."""
    cap = load_capture(path)
    if cap.meta.get("model_sha256") != probe.model_sha256 and not force:
        raise ProbeError(f"{path} was captured from another model than the probe's {probe.model}; pass --force to score anyway")
    if probe.layer not in cap.layers:
        raise ProbeError(f"{path} holds layers {cap.layers[0]}-{cap.layers[-1]} but the probe needs layer {probe.layer}; "
                         f"capture with --layers {probe.layer}")
    proj = project(cap.hidden[:, cap.layers.index(probe.layer)], probe.direction)
    langs = cap.meta.get("langs") or ["en"] * len(cap.ids)
    return with_scores([{"id": i, "lang": lang} for i, lang in zip(cap.ids, langs)], probe, proj, band)
