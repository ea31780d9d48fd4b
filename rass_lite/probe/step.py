"""Steps 1-4 of RASS as one recorded step: capture the probe sets, derive per-layer directions,
choose a layer, fit the boundary on the model's behaviour, and save it all as a probe folder.

The captured states (hidden.npy) and the behaviour answers (results.jsonl) are kept in the folder
and depend only on the ProbeSpec; the layer choice and the boundary fit are made from them each
time, so choosing another layer or refitting never captures or answers again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from ..backends.base import ActivationBackend, TextBackend, never, require_activations
from ..errors import InputError
from ..progress import Cancelled, Progress, silent
from ..records import atomic_open, write_json
from ..refusal import is_refused
from ..refusal.rules import label_response
from ..runs import Recorder, package_versions
from ..vectors import ControlVector
from .artifact import FORMAT_VERSION
from .boundary import Boundary, fit_boundary
from .directions import LayerScore, auroc, choose_layer, difference_of_means, project, score_layers, unit
from .report import render_report
from .sets import ProbeSet

STEP = "probe"
BEHAVIOUR_MAX_TOKENS = 12  # enough for "I'm sorry, but I can't assist with that." (the rules read openings)
BEHAVIOUR_BATCH = 16
HIDDEN = "hidden.npy"


@dataclass(frozen=True)
class ProbeSpec:
    """What decides the captured states and behaviour answers of a probe folder."""

    model: str
    model_sha256: str
    harmful: str
    harmful_sha256: str
    harmless: str
    harmless_sha256: str
    behaviour: bool = True
    behaviour_max_tokens: int = BEHAVIOUR_MAX_TOKENS
    batch_size: int = BEHAVIOUR_BATCH


def probe_spec(backend: TextBackend, harmful: ProbeSet, harmless: ProbeSet, *, behaviour: bool = True) -> ProbeSpec:
    return ProbeSpec(backend.name, backend.identity, harmful.source, harmful.sha256, harmless.source,
                     harmless.sha256, behaviour)


@dataclass
class ProbeResult:
    directions: np.ndarray  # raw difference of means [n_layers, n_embd]
    scores: list[LayerScore]
    chosen: LayerScore
    boundary: Boundary
    projections: np.ndarray  # every probe prompt on the chosen layer's unit direction
    is_harmful: np.ndarray
    refused: np.ndarray | None  # the model's own refusals (refuse or partial), when behaviour ran
    harmful: ProbeSet
    harmless: ProbeSet


def run_probe(backend: TextBackend, harmful: ProbeSet, harmless: ProbeSet, folder: str | Path, *,
              layer: int | None = None, layers: tuple[int, int] | None = None, behaviour: bool = True,
              progress: Progress | None = None, should_stop: Callable[[], bool] = never) -> ProbeResult:
    """Capture (or reuse hidden.npy), answer (resuming), then choose the layer, fit the boundary and
    write the probe folder. Raises `Cancelled` when stopped; what was finished is kept."""
    model = require_activations(backend, "probe")
    _check_layer_options(model, layer, layers)
    progress = progress or silent
    spec = probe_spec(model, harmful, harmless, behaviour=behaviour)
    records = harmful.records + harmless.records
    folder = Path(folder)
    with Recorder(folder, STEP, spec, total=len(records) if behaviour else 0) as run:
        hidden = _hidden_states(model, records, folder, progress, should_stop)
        refused = _behaviour(model, records, run, spec, progress, should_stop) if behaviour else None
        if refused is None and behaviour:
            run.finish("cancelled")
            raise Cancelled("probe")
        result = fit_probe(hidden, refused, harmful, harmless, layer=layer, layers=layers)
        save_probe(result, model, folder, spec)
        run.finish("success")
    return result


def _check_layer_options(model: ActivationBackend, layer: int | None, layers: tuple[int, int] | None) -> None:
    if layer is not None:
        model.check_layers([layer])
        if layer == 0:
            raise InputError("layer 0 cannot be steered or exported; choose a layer from 1")
    if layers is not None and not any(layers[0] <= il <= layers[1] for il in range(model.n_layers)):
        raise InputError(f"--layers {layers[0]}-{layers[1]} is outside the model (0..{model.n_layers - 1})")


def _hidden_states(model: ActivationBackend, records: list[dict], folder: Path, progress: Progress,
                   should_stop: Callable[[], bool]) -> np.ndarray:
    """hidden.npy when a run with this spec already captured it, else a capture (then saved)."""
    path = folder / HIDDEN
    shape = (len(records), model.n_layers, model.n_embd)
    if path.exists():
        try:
            hidden = np.load(path, allow_pickle=False)
            if hidden.shape == shape:
                return hidden
        except (OSError, ValueError):
            pass  # damaged: capture again
    # The shared chat prefix is decoded once (equal to plain capture within 1e-4, tested).
    hidden = model.capture([r["prompt"] for r in records], stop_at_layer=True,
                           progress=lambda d, t, m="": progress(d, t, "capture"), should_stop=should_stop)
    with atomic_open(path, "wb") as f:
        np.save(f, hidden)
    return hidden


def _behaviour(model: TextBackend, records: list[dict], run: Recorder, spec: ProbeSpec, progress: Progress,
               should_stop: Callable[[], bool]) -> np.ndarray | None:
    """Refused (refuse or partial) per probe prompt, answering only those not yet recorded, in
    batches as the bench does. None when stopped before all were answered."""
    todo = [r for r in records if r["id"] not in run.done]

    def write(i: int, answer: str) -> None:
        r = todo[i]
        verdict = label_response(answer, r.get("lang", "en"))
        run.append({"id": r["id"], "lang": r.get("lang", "en"), "prompt": r["prompt"], "response": answer,
                    "refusal": verdict.label, "refusal_reason": verdict.reason})
        progress(run.n_done, len(records), "behaviour")

    if todo:
        answers = model.generate_batch([r["prompt"] for r in todo], max_tokens=spec.behaviour_max_tokens,
                                       batch_size=spec.batch_size, on_answer=write, should_stop=should_stop)
        if None in answers:
            return None
    return np.array([is_refused(run.done[r["id"]]["refusal"]) for r in records])


def fit_probe(hidden: np.ndarray, refused: np.ndarray | None, harmful: ProbeSet, harmless: ProbeSet, *,
              layer: int | None = None, layers: tuple[int, int] | None = None) -> ProbeResult:
    """Directions, per-layer scores, layer choice and boundary from captured states (pure numpy)."""
    records = harmful.records + harmless.records
    is_harmful = np.array([True] * len(harmful.records) + [False] * len(harmless.records))
    is_val = np.array([r.get("split", "train") == "val" for r in records])
    directions = difference_of_means(hidden[is_harmful & ~is_val], hidden[~is_harmful & ~is_val])
    scores = score_layers(directions, hidden[is_harmful & is_val], hidden[~is_harmful & is_val])
    if refused is not None:
        # Which layer's projection predicts the model's own refusals best (a tie-breaker for choice).
        units = unit(directions)
        scores = [replace(s, behaviour_auroc=_behaviour_auroc(hidden[:, s.layer] @ units[s.layer], refused)) for s in scores]
    if layer is not None:
        chosen = scores[layer]
    elif layers is not None:
        chosen = choose_layer([replace(s, eligible=True) for s in scores if layers[0] <= s.layer <= layers[1]])
    else:
        chosen = choose_layer(scores)
    proj = project(hidden[:, chosen.layer], unit(directions[chosen.layer][None])[0])
    boundary = fit_boundary(proj, refused, proj[is_harmful], proj[~is_harmful])
    return ProbeResult(directions, scores, chosen, boundary, proj, is_harmful, refused, harmful, harmless)


def _behaviour_auroc(proj: np.ndarray, refused: np.ndarray) -> float | None:
    if refused.all() or not refused.any():
        return None
    return auroc(proj[refused], proj[~refused])


def save_probe(result: ProbeResult, model: ActivationBackend, folder: str | Path, spec: ProbeSpec) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    refused, is_harmful, proj = result.refused, result.is_harmful, result.projections
    counts = None
    if refused is not None:
        counts = {"harmful_refused": int(refused[is_harmful].sum()), "harmful_total": int(is_harmful.sum()),
                  "harmless_refused": int(refused[~is_harmful].sum()), "harmless_total": int((~is_harmful).sum())}
    meta = {
        "format_version": FORMAT_VERSION,
        "model": model.name,
        "model_sha256": model.identity,
        "architecture": model.architecture,
        "n_layers": model.n_layers,
        "n_embd": model.n_embd,
        "layer": result.chosen.layer,
        "position": "last prompt token, l_out (residual stream after the block)",
        "boundary": result.boundary.as_dict(),
        "behaviour_max_tokens": spec.behaviour_max_tokens,
        "refusal_counts": counts,
        "projection_medians": {"harmful": float(np.median(proj[is_harmful])), "harmless": float(np.median(proj[~is_harmful]))},
        "layers": [s.as_dict() for s in result.scores],
        "direction_norms": [round(float(n), 6) for n in np.linalg.norm(result.directions, axis=1)],
        "datasets": {k: {"source": s.source, "sha256": s.sha256, "n": len(s.records)}
                     for k, s in (("harmful", result.harmful), ("harmless", result.harmless))},
        "versions": package_versions(),
    }
    ControlVector({n: result.directions[n] for n in range(1, model.n_layers)}, model.architecture).save(folder / "directions.gguf")
    write_json(folder / "probe.json", meta)
    with atomic_open(folder / "report.md") as f:
        f.write(render_report(meta))
    return folder
