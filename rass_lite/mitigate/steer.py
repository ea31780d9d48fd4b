"""A mitigation setting and the per-prompt decision to steer.

    global        subtract scale × the probe's raw directions on its steering blocks, for every prompt
    conditional   score the prompt first (a pass that stops at the condition layer, and the probe's
                  behaviour score: one full pass) and steer only when the harm condition says benign
                  AND the behaviour score says the model is near or past refusing; otherwise answer
                  unsteered

A mitigation folder holds mitigation.json (mode, scale, blocks, gate, condition, probe and model
identity) and condition.npy (the condition's weights); a global one also a llama.cpp control-vector
file. A conditional one cannot be a plain llama.cpp file: llama.cpp adds a control vector to every
prompt, and has no hook that reads a prompt's state before deciding whether to add it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, ProbeError
from ..probe import Probe
from ..probe.directions import project
from ..records import write_json
from ..score import first_token_signal
from .condition import Condition

MODES = ("global", "conditional")
CVEC = "control-vector.gguf"


@dataclass(frozen=True)
class Mitigation:
    mode: str
    scale: float  # beta >= 0: the model is steered by -beta x raw directions
    blocks: tuple[int, int]
    model_sha256: str
    probe: str
    gate: float | None = None  # conditional: steer only when the probe's score >= gate
    condition: Condition | None = None

    def __post_init__(self):
        if self.mode not in MODES:
            raise InputError(f"unknown steering mode {self.mode!r}; use global or conditional")
        if self.mode == "conditional" and self.condition is None:
            raise InputError("conditional steering needs a condition (run `rass-lite mitigate sweep` first)")

    def steering(self, model, probe: Probe):
        return model.steering(probe.vectors.directions, -self.scale, self.blocks)

    def decide(self, model, probe: Probe, prompts: list[str], should_stop=lambda: False,
               langs: list[str] | None = None) -> list[dict]:
        """Per prompt: {"steered": bool, "why": str, "harm": score or None, "refusal_score": ...}; the
        refusal score is the probe's behaviour score (its projection's boundary for an old probe)."""
        if self.mode == "global" or self.scale == 0:
            return self.decide_from([{} for _ in prompts])
        return self.decide_from(condition_signals(model, probe, self.condition, prompts, langs, should_stop))

    def decide_from(self, signals: list[dict]) -> list[dict]:
        """The decisions from signals computed beforehand ({"harm", "refusal_score"} per prompt, as
        `condition_signals` gives them): a sweep scores its prompts once for all its settings."""
        if self.mode == "global" or self.scale == 0:
            why = "global" if self.scale else "scale 0"
            return [{"steered": bool(self.scale), "why": why} for _ in signals]
        out = []
        for s in signals:
            h, r = s["harm"], s["refusal_score"]
            if h >= self.condition.threshold:
                steered, why = False, "harm condition fired"
            elif self.gate is not None and r < self.gate:
                steered, why = False, "far from refusing"
            else:
                steered, why = True, "benign and near refusing"
            out.append({"steered": steered, "why": why, "harm": h, "refusal_score": r})
        return out

    def as_dict(self) -> dict:
        c = self.condition
        return {"mode": self.mode, "scale": self.scale, "blocks": list(self.blocks), "gate": self.gate,
                "model_sha256": self.model_sha256, "probe": self.probe,
                "condition": None if c is None else {"kind": c.kind, "layer": c.layer, "position": c.position,
                                                      "threshold": c.threshold}}


def condition_signals(model, probe: Probe, condition: Condition, prompts: list[str], langs: list[str] | None,
                      should_stop=lambda: False, behaviour: list[float] | None = None) -> list[dict]:
    """Per prompt, what conditional steering decides on: the harm condition's score (a pass that
    stops at its layer) and the probe's behaviour score (one full pass; or `behaviour`, the scores
    score_records gave the same prompts). Rounded to 4 places, as records keep them, so a decision
    made from recorded signals equals one made here."""
    states = model.capture(prompts, [condition.layer], stop_at_layer=True, position=condition.position,
                           should_stop=should_stop)[:, 0]
    harm = condition.score(states)
    if behaviour is not None:
        ref = np.asarray(behaviour, np.float64)
    else:
        p_first, ref_states = first_token_signal(model, probe, prompts, langs or ["en"] * len(prompts),
                                                 layers=[probe.layer], should_stop=should_stop)
        ref = probe.score(project(ref_states[:, 0], probe.direction), p_first)
    return [{"harm": round(float(h), 4), "refusal_score": round(float(r), 4)} for h, r in zip(harm, ref)]


def scored_signals(model, probe: Probe, condition: Condition | None, records: list[dict],
                   should_stop=lambda: False) -> tuple[dict[str, dict], dict[str, dict] | None]:
    """score_records' fields per record id and, with a condition, its signals per id: the gate reads
    the same behaviour score, so one full pass serves both."""
    from ..score import score_records

    scores = {s["id"]: s for s in score_records(model, probe, records, should_stop=should_stop)}
    if condition is None:
        return scores, None
    made = condition_signals(model, probe, condition, [r["prompt"] for r in records], [r["lang"] for r in records],
                             should_stop, behaviour=[scores[r["id"]]["score"] for r in records])
    return scores, {r["id"]: d for r, d in zip(records, made)}


def save_mitigation(m: Mitigation, folder: str | Path, probe: Probe) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if m.condition is not None:
        np.save(folder / "condition.npy", m.condition.weights)
    if m.mode == "global" and m.scale:
        probe.vectors.scaled(-m.scale, m.blocks).save(folder / CVEC)
    data = m.as_dict()
    if m.condition is not None:  # what the fit said, not what decides (so not in a bench run's spec)
        data["condition"]["held_out_catch"] = m.condition.held_out_catch
    write_json(folder / "mitigation.json", data)
    return folder


def load_mitigation(folder: str | Path, model=None) -> Mitigation:
    folder = Path(folder)
    try:
        d = json.loads((folder / "mitigation.json").read_text(encoding="utf-8"))
        cond = None
        if d.get("condition"):
            c = d["condition"]
            cond = Condition(c["kind"], int(c["layer"]), c["position"], np.load(folder / "condition.npy"),
                             float(c["threshold"]), c.get("held_out_catch"))
        m = Mitigation(d["mode"], float(d["scale"]), tuple(d["blocks"]), d["model_sha256"], d["probe"],
                       d.get("gate"), cond)
    except FileNotFoundError as exc:
        raise ProbeError(f"{folder} is not a mitigation folder ({Path(exc.filename).name} missing); "
                         "write one with `rass-lite mitigate sweep`") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ProbeError(f"{folder / 'mitigation.json'} is corrupt ({type(exc).__name__}: {exc})") from None
    if model is not None and m.model_sha256 != model.identity:
        raise ProbeError(f"the mitigation in {folder} was made for another model (sha256 {m.model_sha256[:12]}…), "
                         f"not {model.name}; run `rass-lite mitigate sweep` on this model")
    return m
