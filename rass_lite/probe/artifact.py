"""A probe folder as scoring and steering read it.

    DIR/probe.json       model + sha256, chosen layer, per-layer metrics, boundary, hashes, versions
    DIR/directions.gguf  raw difference-of-means of every block N >= 1 as direction.N (llama.cpp format)
    DIR/axis.npy         the score axis of the chosen layer (unit ridge discriminant; projections are on it)
    DIR/hidden.npy       captured states of the probe prompts [n, n_layers, n_embd], float16 (reused by re-runs)
    DIR/first_token.npz  first-token refusal probability of each probe prompt (and the token weights)
    DIR/results.jsonl    the model's answers to the probe prompts and their refusal labels
    DIR/run.json         the recorded run (spec, status)
    DIR/report.md        per-layer table, a text chart of separation by layer, refusal counts
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, ProbeError
from ..vectors import ControlVector
from ..refusal.first_token import FirstTokenWeights
from .behaviour import BehaviourScore
from .boundary import Boundary
from .directions import unit

FORMAT_VERSION = 3  # 3: behaviour score, per-language layer scores, first_token.npy


@dataclass
class Probe:
    """A loaded probe directory: everything scoring and steering need."""

    model: str
    model_sha256: str
    layer: int
    direction: np.ndarray  # the unit score axis of the chosen layer [n_embd] (projections are on it)
    boundary: Boundary
    vectors: ControlVector  # raw difference-of-means directions of every block (steering, export)
    meta: dict  # probe.json as written
    behaviour: BehaviourScore | None = None  # None: a probe without behaviour (or format 2)
    first_token_weights: FirstTokenWeights | None = None  # the token weights its P_first is read with

    @classmethod
    def load(cls, folder: str | Path) -> "Probe":
        folder = Path(folder)
        try:
            meta = json.loads((folder / "probe.json").read_text(encoding="utf-8"))
            layer = int(meta["layer"])
            b = meta["boundary"]
            boundary = Boundary(float(b["slope"]), float(b["intercept"]), b["method"])
            model, sha = meta["model"], meta["model_sha256"]
            behaviour = BehaviourScore.from_dict(meta["behaviour_score"]) if meta.get("behaviour_score") else None
            weights = FirstTokenWeights.from_dict(meta["first_token_weights"]) if meta.get("first_token_weights") else None
        except FileNotFoundError:
            raise ProbeError(f"{folder} has no probe.json; run `rass-lite probe --out {folder}` first") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ProbeError(f"{folder / 'probe.json'} is corrupt ({type(exc).__name__}: {exc}); run `rass-lite probe` again") from None
        try:
            raw = ControlVector.load(folder / "directions.gguf")
        except InputError as exc:
            raise ProbeError(f"{folder}: directions.gguf is missing or corrupt ({exc}); run `rass-lite probe` again") from None
        if layer not in raw.directions:
            raise ProbeError(f"{folder}: directions.gguf has no direction.{layer} for the chosen layer; run `rass-lite probe` again")
        axis = unit(raw.directions[layer][None])[0]  # format 2: the raw direction was the score axis
        if (meta.get("axis") or {}).get("file"):
            try:
                axis = np.load(folder / meta["axis"]["file"], allow_pickle=False).astype(np.float32)
            except (OSError, ValueError):
                raise ProbeError(f"{folder}: {meta['axis']['file']} is missing or corrupt; run `rass-lite probe` again") from None
        return cls(model, sha, layer, axis, boundary, raw, meta, behaviour, weights)

    def score(self, projection, p_first=None) -> np.ndarray:
        """The behaviour score (logit of P(refuse), 0 on the boundary) from the projection and the
        first-token refusal probability; from the projection alone when either is missing."""
        if self.behaviour is None or p_first is None:
            return np.asarray(self.boundary.score(projection), np.float64)
        return self.behaviour.score(projection, p_first)

    @property
    def steering_blocks(self) -> tuple[int, int]:
        """Default blocks to steer: the chosen layer ± 2 (README, method), block 0 excluded."""
        return max(1, self.layer - 2), self.layer + 2


def check_probe_matches(probe: Probe, backend, force: bool = False) -> None:
    """One clear error when `probe` was made for another model than `backend`'s."""
    if probe.model_sha256 != backend.identity and not force:
        raise ProbeError(
            f"the probe was made for {probe.model} (sha256 {probe.model_sha256[:12]}…), not for {backend.name} "
            f"({backend.identity[:12]}…); run `rass-lite probe` on this model, or pass --force"
        )
    if probe.direction.shape[0] != backend.n_embd or probe.layer >= backend.n_layers:
        raise ProbeError(f"the probe (layer {probe.layer}, n_embd {probe.direction.shape[0]}) does not fit {backend.name}")
