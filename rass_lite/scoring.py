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
    return _with_scores(records, probe, project(hidden[:, 0], probe.direction), band)


def _with_scores(records: list[dict], probe: Probe, proj, band: float) -> list[dict]:
    scores, p = probe.boundary.score(proj), probe.boundary.p_refuse(proj)
    return [
        {**r, "score": round(float(s), 4), "p_refuse": round(float(q), 4), "projection": round(float(x), 4),
         "layer": probe.layer, "zone": zone(float(s), band)}
        for r, s, q, x in zip(records, scores, p, proj)
    ]


def score_capture_file(probe: Probe, path: str, *, band: float = 1.0, force: bool = False) -> list[dict]:
    """Scores from an .npz written by `rass-lite capture` (no model needed)."""
    import json
    import zipfile

    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            hidden, layers, ids = data["hidden"], [int(x) for x in data["layers"]], [str(x) for x in data["ids"]]
            meta = json.loads(str(data["metadata"]))
    except FileNotFoundError:
        raise ProbeError(f"file not found: {path}") from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise ProbeError(f"cannot read {path} as a capture file ({type(exc).__name__}: {exc}); "
                         "make it with `rass-lite capture --out FILE.npz`") from None
    if meta.get("model_sha256") != probe.model_sha256 and not force:
        raise ProbeError(f"{path} was captured from another model than the probe's {probe.model}; pass --force to score anyway")
    if probe.layer not in layers:
        raise ProbeError(f"{path} holds layers {layers[0]}-{layers[-1]} but the probe needs layer {probe.layer}; capture with --layers {probe.layer}")
    proj = project(hidden[:, layers.index(probe.layer)], probe.direction)
    langs = meta.get("langs") or ["en"] * len(ids)
    return _with_scores([{"id": i, "lang": lang} for i, lang in zip(ids, langs)], probe, proj, band)
