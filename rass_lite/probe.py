"""Step 1-4 of RASS: capture the probe sets, derive per-layer directions, choose a layer, fit the
boundary on the model's behaviour, and save it all as a probe directory.

    DIR/probe.json       model + sha256, chosen layer, per-layer metrics, boundary, hashes, versions
    DIR/directions.gguf  raw difference-of-means of every block N >= 1 as direction.N (llama.cpp format)
    DIR/report.md        per-layer table, a text chart of separation by layer, refusal counts
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

import numpy as np

from .boundary import Boundary, fit_boundary
from .cvec_file import ControlVector
from .directions import LayerScore, auroc, choose_layer, difference_of_means, project, score_layers, unit
from .errors import InputError, ProbeError
from .progress import Progress, silent
from .records import atomic_open, iter_jsonl, read_jsonl, write_json
from .refusal.rules import label_response

MIN_PER_CLASS = 10
BEHAVIOUR_MAX_TOKENS = 12  # enough for "I'm sorry, but I can't assist with that." (the rules read openings)
FORMAT_VERSION = 1


@dataclass
class ProbeSet:
    records: list[dict]
    sha256: str
    source: str

    def split(self, name: str) -> list[dict]:
        return [r for r in self.records if r.get("split", "train") == name]


def load_probe_set(path: str | Path | None, kind: str) -> ProbeSet:
    """A probe set from a JSONL file, or the packaged one (`kind` = harmful | harmless)."""
    if path is None:
        resource = resources.files("rass_lite").joinpath(f"data/probe/{kind}.jsonl")
        data, source = resource.read_bytes(), f"packaged:{kind}.jsonl"
        records = [r for _, r in iter_jsonl(data.decode("utf-8"), source)]
    else:
        records, source = read_jsonl(Path(path)), str(path)
        data = Path(path).read_bytes()
    for i, r in enumerate(records, start=1):
        if not isinstance(r.get("prompt"), str) or not r["prompt"].strip():
            raise InputError(f"{source}:{i}: field 'prompt' is missing or empty")
        r.setdefault("id", f"{kind}-{i}")
        r.setdefault("lang", "en")
    for name in ("train", "val"):
        n = sum(1 for r in records if r.get("split", "train") == name)
        if n < MIN_PER_CLASS:
            raise InputError(f"{source}: {n} {kind} prompts in split {name!r}; need at least {MIN_PER_CLASS} "
                             "(mark about a third of the lines with \"split\": \"val\")")
    return ProbeSet(records, hashlib.sha256(data).hexdigest(), source)


@dataclass
class Probe:
    """A loaded probe directory: everything scoring needs."""

    model: str
    model_sha256: str
    layer: int
    direction: np.ndarray  # unit vector of the chosen layer [n_embd]
    boundary: Boundary
    raw: ControlVector  # raw directions of every block
    meta: dict

    @classmethod
    def load(cls, folder: str | Path) -> "Probe":
        folder = Path(folder)
        try:
            meta = json.loads((folder / "probe.json").read_text(encoding="utf-8"))
            layer = int(meta["layer"])
            b = meta["boundary"]
            boundary = Boundary(float(b["slope"]), float(b["intercept"]), b["method"])
            model, sha = meta["model"], meta["model_sha256"]
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
        return cls(model, sha, layer, unit(raw.directions[layer][None])[0], boundary, raw, meta)

    @property
    def steering_blocks(self) -> tuple[int, int]:
        """Default blocks to steer: the chosen layer ± 2 (README, method), block 0 excluded."""
        return max(1, self.layer - 2), self.layer + 2


def run_probe(engine, harmful: ProbeSet, harmless: ProbeSet, *, layer: int | None = None,
              layers: tuple[int, int] | None = None, behaviour: bool = True,
              progress: Progress | None = None) -> dict:
    """Capture, directions, layer choice and boundary. Returns what `save_probe` writes."""
    progress = progress or silent
    if layer is not None:
        engine.check_layers([layer])
        if layer == 0:
            raise InputError("layer 0 cannot be steered or exported; choose a layer from 1")
    if layers is not None and not any(layers[0] <= il <= layers[1] for il in range(engine.n_layers)):
        raise InputError(f"--layers {layers[0]}-{layers[1]} is outside the model (0..{engine.n_layers - 1})")
    prompts = [r["prompt"] for r in harmful.records + harmless.records]
    total = len(prompts) * (2 if behaviour else 1)
    step = [0]

    def tick(done: int, _total: int, message: str = "") -> None:
        progress(step[0] + done, total, message)

    # [n, n_layers, n_embd]; the shared chat prefix is decoded once (equal to plain capture, tested)
    hidden = engine.capture(prompts, fast=True, progress=tick)
    step[0] = len(prompts)
    is_harmful = np.array([True] * len(harmful.records) + [False] * len(harmless.records))
    is_val = np.array([r.get("split", "train") == "val" for r in harmful.records + harmless.records])

    directions = difference_of_means(hidden[is_harmful & ~is_val], hidden[~is_harmful & ~is_val])
    scores = score_layers(directions, hidden[is_harmful & is_val], hidden[~is_harmful & is_val])

    refused = None
    if behaviour:
        refused = np.zeros(len(prompts), bool)
        for i, prompt in enumerate(prompts):
            answer = engine.generate(prompt, max_tokens=BEHAVIOUR_MAX_TOKENS)
            refused[i] = label_response(answer, "en").label in ("refuse", "partial")
            tick(i + 1, total, "behaviour")
        # Which layer's projection predicts the model's own refusals best (a tie-breaker for choice).
        units = unit(directions)
        scores = [
            LayerScore(**{**s.__dict__, "behaviour_auroc": _behaviour_auroc(hidden[:, s.layer] @ units[s.layer], refused)})
            for s in scores
        ]

    if layer is not None:
        chosen = scores[layer]
    elif layers is not None:
        window = [s for s in scores if layers[0] <= s.layer <= layers[1]]
        chosen = choose_layer([LayerScore(**{**s.__dict__, "eligible": True}) for s in window])
    else:
        chosen = choose_layer(scores)

    u = unit(directions[chosen.layer][None])[0]
    proj = project(hidden[:, chosen.layer], u)
    boundary = fit_boundary(proj, refused, proj[is_harmful], proj[~is_harmful])
    return {
        "directions": directions,
        "scores": scores,
        "chosen": chosen,
        "boundary": boundary,
        "projections": proj,
        "is_harmful": is_harmful,
        "refused": refused,
        "harmful": harmful,
        "harmless": harmless,
    }


def _behaviour_auroc(proj: np.ndarray, refused: np.ndarray) -> float | None:
    if refused.all() or not refused.any():
        return None
    return auroc(proj[refused], proj[~refused])


def save_probe(result: dict, engine, folder: str | Path) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    directions = result["directions"]
    chosen: LayerScore = result["chosen"]
    boundary: Boundary = result["boundary"]
    refused = result["refused"]
    is_harmful = result["is_harmful"]
    proj = result["projections"]
    counts = None
    if refused is not None:
        counts = {"harmful_refused": int(refused[is_harmful].sum()), "harmful_total": int(is_harmful.sum()),
                  "harmless_refused": int(refused[~is_harmful].sum()), "harmless_total": int((~is_harmful).sum())}
    meta = {
        "format_version": FORMAT_VERSION,
        "model": engine.name,
        "model_sha256": engine.sha256,
        "architecture": engine.info.architecture,
        "n_layers": engine.n_layers,
        "n_embd": engine.n_embd,
        "layer": chosen.layer,
        "position": "last prompt token, l_out (residual stream after the block)",
        "boundary": boundary.as_dict(),
        "refusal_counts": counts,
        "projection_medians": {"harmful": float(np.median(proj[is_harmful])), "harmless": float(np.median(proj[~is_harmful]))},
        "layers": [s.as_dict() for s in result["scores"]],
        "direction_norms": [round(float(n), 6) for n in np.linalg.norm(directions, axis=1)],
        "datasets": {k: {"source": result[k].source, "sha256": result[k].sha256, "n": len(result[k].records)}
                     for k in ("harmful", "harmless")},
        "versions": package_versions(),
    }
    ControlVector({n: directions[n] for n in range(1, engine.n_layers)}, engine.info.architecture).save(folder / "directions.gguf")
    write_json(folder / "probe.json", meta)
    with atomic_open(folder / "report.md") as f:
        f.write(render_report(meta))
    return folder


def package_versions() -> dict:
    versions = {"python": platform.python_version()}
    for package in ("rass-lite", "llama-cpp-python", "numpy", "gguf"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def render_report(meta: dict) -> str:
    rows = meta["layers"]
    lines = [
        f"# Probe report: {meta['model']}",
        "",
        f"Chosen layer **{meta['layer']}** · boundary: {meta['boundary']['method']} "
        f"(threshold {meta['boundary']['threshold']:.3f} on the unit direction)",
        "",
    ]
    if meta["refusal_counts"]:
        c = meta["refusal_counts"]
        lines += [f"Refusals (greedy, first {BEHAVIOUR_MAX_TOKENS} tokens): harmful {c['harmful_refused']}/{c['harmful_total']}, "
                  f"harmless {c['harmless_refused']}/{c['harmless_total']}", ""]
    lines += ["| layer | val AUROC | Cohen's d | behaviour AUROC | norm | eligible |", "|---:|---:|---:|---:|---:|:---:|"]
    for r in rows:
        b = "" if r["behaviour_auroc"] is None else f"{r['behaviour_auroc']:.3f}"
        mark = " ←" if r["layer"] == meta["layer"] else ""
        lines.append(f"| {r['layer']}{mark} | {r['auroc']:.3f} | {r['cohens_d']:.2f} | {b} | {r['norm']:.2f} | {'yes' if r['eligible'] else 'no'} |")
    lines += ["", "Separation by layer (Cohen's d):", "", "```"]
    top = max(abs(r["cohens_d"]) for r in rows if np.isfinite(r["cohens_d"])) or 1.0
    for r in rows:
        d = r["cohens_d"] if np.isfinite(r["cohens_d"]) else top
        lines.append(f"{r['layer']:>3} {'#' * int(round(40 * max(d, 0) / top)):<40} {d:6.2f}")
    lines += ["```", ""]
    return "\n".join(lines)
