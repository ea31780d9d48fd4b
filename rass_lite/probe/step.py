"""Steps 1-4 of RASS as one recorded step: capture the probe sets, derive per-layer directions,
choose a layer, fit the boundary on the model's behaviour, and save it all as a probe folder.

The behaviour answers (results.jsonl), the captured states (hidden.npy) and the first-token
refusal probabilities (first_token.npz: under token weights learned from the train split's answers,
from the same pass) are kept in the folder and depend only on the ProbeSpec; the layer choice and
the fits are made from them each time, so choosing another layer or refitting never captures or
answers again. The probe sets may hold several languages: the
direction is the mean of the languages' differences of means and the layer is chosen by the worst
language's validation AUROC.
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
from ..refusal.first_token import FirstTokenWeights, learn_weights, p_refuse_weighted
from ..refusal.rules import label_response
from ..runs import Recorder, package_versions
from ..vectors import ControlVector
from .artifact import FORMAT_VERSION
from .behaviour import BehaviourScore, fit_behaviour_score
from .boundary import Boundary, fit_boundary
from .directions import (LayerScore, auroc, choose_layer, difference_of_means_by_language, project, ridge_axes,
                         score_layers, unit)
from .report import render_report
from .sets import ProbeSet

STEP = "probe"
BEHAVIOUR_MAX_TOKENS = 12  # enough for "I'm sorry, but I can't assist with that." (the rules read openings)
BEHAVIOUR_BATCH = 16
HIDDEN = "hidden.npy"  # float16: 2,560 prompts x 24 layers x 896 is 110 MB, not 220 (projections move < 1e-3)
FIRST_TOKEN = "first_token.npz"  # p [n] with the token ids and weights it was computed under
AXIS = "axis.npy"  # the unit score axis of the chosen layer


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
    behaviour: BehaviourScore | None = None  # projection + first-token P(refuse), fitted on the train split
    behaviour_val: dict | None = None  # its AUROCs on the val split beside each signal alone
    first_token_weights: FirstTokenWeights | None = None  # learned from the train split's answers
    axis: np.ndarray | None = None  # the unit score axis on the chosen layer (projections are on it)


def run_probe(backend: TextBackend, harmful: ProbeSet, harmless: ProbeSet, folder: str | Path, *,
              layer: int | None = None, layers: tuple[int, int] | None = None, behaviour: bool = True,
              progress: Progress | None = None, should_stop: Callable[[], bool] = never) -> ProbeResult:
    """Answer (resuming), learn the first-token weights from the train split's answers, capture (or
    reuse hidden.npy and first_token.npz), then choose the layer, fit the boundary and the behaviour
    score and write the probe folder. Raises `Cancelled` when stopped; what was finished is kept."""
    model = require_activations(backend, "probe")
    _check_layer_options(model, layer, layers)
    progress = progress or silent
    spec = probe_spec(model, harmful, harmless, behaviour=behaviour)
    records = harmful.records + harmless.records
    folder = Path(folder)
    with Recorder(folder, STEP, spec, total=len(records) if behaviour else 0) as run:
        refused = _behaviour(model, records, run, spec, progress, should_stop) if behaviour else None
        if refused is None and behaviour:
            run.finish("cancelled")
            raise Cancelled("probe")
        weights = None
        if behaviour:
            train = [r for r in records if r.get("split", "train") == "train"]
            weights = learn_weights(model, [run.done[r["id"]]["response"] for r in train],
                                    [is_refused(run.done[r["id"]]["refusal"]) for r in train], [r["lang"] for r in train])
        hidden, p_first = _hidden_states(model, records, folder, weights, progress, should_stop)
        result = fit_probe(hidden, refused, harmful, harmless, layer=layer, layers=layers, p_first=p_first)
        result.first_token_weights = weights
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


def _hidden_states(model: ActivationBackend, records: list[dict], folder: Path, weights: FirstTokenWeights | None,
                   progress: Progress, should_stop: Callable[[], bool]) -> tuple[np.ndarray, np.ndarray | None]:
    """hidden.npy (and first_token.npz under the same `weights`) when a run already made them, else
    one pass per prompt: a full forward that also gives the weighted first-token probability when
    `weights`, else a capture stopping at the last layer."""
    path, p_path = folder / HIDDEN, folder / FIRST_TOKEN
    hidden = p_first = None
    try:
        hidden = np.load(path, allow_pickle=False).astype(np.float32)
        if hidden.shape != (len(records), model.n_layers, model.n_embd):
            hidden = None
    except (OSError, ValueError):
        pass  # missing or damaged: capture again
    if weights is not None:
        try:
            with np.load(p_path, allow_pickle=False) as z:
                same = z["ids"].tolist() == list(weights.ids) and np.allclose(z["weights"], weights.weights)
                p_first = z["p"] if same and z["p"].shape == (len(records),) else None
        except (OSError, ValueError, KeyError):
            pass
    if hidden is not None and (weights is None or p_first is not None):
        return hidden, p_first
    prompts = [r["prompt"] for r in records]
    step = lambda d, t, m="": progress(d, t, "capture")  # noqa: E731
    # The shared chat prefix is decoded once (equal to the plain path within 1e-4, tested).
    captured = None
    if weights is None:
        captured = model.capture(prompts, stop_at_layer=True, progress=step, should_stop=should_stop)
    else:  # only the first-token pass when the states are already kept
        p_first, captured = p_refuse_weighted(model, prompts, weights, layers=None if hidden is not None else
                                              list(range(model.n_layers)), progress=step, should_stop=should_stop)
        with atomic_open(p_path, "wb") as f:
            np.savez(f, p=p_first, ids=np.array(weights.ids, np.int64), weights=np.array(weights.weights))
    if captured is not None:
        with atomic_open(path, "wb") as f:
            np.save(f, captured.astype(np.float16))
        hidden = captured.astype(np.float16).astype(np.float32)  # what a re-run will read
    return hidden, p_first


def _behaviour(model: TextBackend, records: list[dict], run: Recorder, spec: ProbeSpec, progress: Progress,
               should_stop: Callable[[], bool]) -> np.ndarray | None:
    """Refused (refuse or partial) per probe prompt, answering only those not yet recorded, in
    batches as the bench does. None when stopped before all were answered."""
    todo = [r for r in records if r["id"] not in run.done]

    def write(i: int, answer: str) -> None:
        r = todo[i]
        verdict = label_response(answer, r.get("lang", "en"), prompt=r["prompt"])  # as bench labels
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
              layer: int | None = None, layers: tuple[int, int] | None = None,
              p_first: np.ndarray | None = None) -> ProbeResult:
    """Directions, per-layer scores (per language), layer choice, boundary and behaviour score from
    captured states (pure numpy)."""
    records = harmful.records + harmless.records
    is_harmful = np.array([True] * len(harmful.records) + [False] * len(harmless.records))
    is_val = np.array([r.get("split", "train") == "val" for r in records])
    langs = np.array([r.get("lang", "en") for r in records])
    train = ~is_val
    directions = difference_of_means_by_language(hidden[train], is_harmful[train], langs[train])
    h_val, b_val = is_harmful & is_val, ~is_harmful & is_val
    scores = score_layers(directions, hidden[h_val], hidden[b_val], langs[h_val], langs[b_val])
    # The score axis: a ridge discriminant per layer (the raw difference stays the steering axis).
    scores, axes = ridge_axes(hidden[is_harmful & train], hidden[~is_harmful & train], hidden[h_val], hidden[b_val],
                              langs[h_val], langs[b_val], scores)
    if refused is not None:
        # Which layer's projection predicts the model's own refusals best (a tie-breaker for choice).
        units = unit(directions)
        scores = [replace(s, behaviour_auroc=_behaviour_auroc(hidden[:, s.layer] @ axes.get(s.layer, units[s.layer]), refused))
                  for s in scores]
    if layer is not None:
        chosen = scores[layer]
    elif layers is not None:
        chosen = choose_layer([replace(s, eligible=True) for s in scores if layers[0] <= s.layer <= layers[1]])
    else:
        chosen = choose_layer(scores)
    axis = axes.get(chosen.layer, unit(directions[chosen.layer][None])[0])
    proj = project(hidden[:, chosen.layer], axis)
    boundary = fit_boundary(proj, refused, proj[is_harmful], proj[~is_harmful])
    behaviour = val = None
    if refused is not None and p_first is not None:
        behaviour = fit_behaviour_score(proj[train], p_first[train], refused[train])
        if behaviour is not None:
            val = behaviour_aurocs(proj[is_val], p_first[is_val], refused[is_val], ~is_harmful[is_val], behaviour)
    return ProbeResult(directions, scores, chosen, boundary, proj, is_harmful, refused, harmful, harmless, behaviour, val,
                       axis=axis)


def behaviour_aurocs(proj: np.ndarray, p_first: np.ndarray, refused: np.ndarray, benign: np.ndarray,
                     behaviour: BehaviourScore) -> dict:
    """AUROC for the model's own refusals of each signal, overall and within the benign prompts."""
    signals = {"projection": proj, "first_token": p_first, "behaviour": behaviour.score(proj, p_first)}
    out = {}
    for within, mask in (("all", np.ones(len(proj), bool)), ("benign", benign)):
        out[within] = {name: _behaviour_auroc(x[mask], refused[mask]) for name, x in signals.items()}
        out[within]["n"], out[within]["refused"] = int(mask.sum()), int(refused[mask].sum())
    return out


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
        "axis": {"file": AXIS, "ridge": result.chosen.ridge},
        "boundary": result.boundary.as_dict(),
        "behaviour_score": None if result.behaviour is None else {**result.behaviour.as_dict(), "val": result.behaviour_val},
        "first_token_weights": None if result.first_token_weights is None else result.first_token_weights.as_dict(),
        "langs": sorted(set(r.get("lang", "en") for r in result.harmful.records + result.harmless.records)),
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
    with atomic_open(folder / AXIS, "wb") as f:
        np.save(f, result.axis.astype(np.float32))
    write_json(folder / "probe.json", meta)
    with atomic_open(folder / "report.md") as f:
        f.write(render_report(meta))
    return folder
