"""Boundary scores for prompts on the target model: the fast path that decodes only up to the probe
layer and reuses the KV cache of the chat prefix all prompts share."""

from __future__ import annotations

from .boundary import zone
from .directions import project
from .errors import ProbeError
from .probe import Probe
from .progress import Progress


def check_probe_matches(probe: Probe, engine, force: bool = False) -> None:
    if probe.model_sha256 != engine.sha256 and not force:
        raise ProbeError(
            f"the probe was made for {probe.model} (sha256 {probe.model_sha256[:12]}…), not for {engine.name} "
            f"(sha256 {engine.sha256[:12]}…); run `rass-lite probe` on this model, or pass --force"
        )
    if probe.direction.shape[0] != engine.n_embd or probe.layer >= engine.n_layers:
        raise ProbeError(f"the probe (layer {probe.layer}, n_embd {probe.direction.shape[0]}) does not fit {engine.name}")


def score_records(engine, probe: Probe, records: list[dict], *, band: float = 1.0,
                  progress: Progress | None = None) -> list[dict]:
    """Each input record with score, p_refuse, projection, layer and zone added."""
    hidden = engine.capture([r["prompt"] for r in records], [probe.layer], fast=True, progress=progress)
    proj = project(hidden[:, 0], probe.direction)
    scores = probe.boundary.score(proj)
    p = probe.boundary.p_refuse(proj)
    return [
        {**r, "score": round(float(s), 4), "p_refuse": round(float(q), 4), "projection": round(float(x), 4),
         "layer": probe.layer, "zone": zone(float(s), band)}
        for r, s, q, x in zip(records, scores, p, proj)
    ]
