"""The capture file (.npz) that `rass-lite capture` writes and `rass-lite score --from-capture` reads.

    hidden    float32 [n_prompts, n_layers_kept, n_embd]   l_out at the last prompt token
    layers    int32 [n_layers_kept]
    ids       str [n_prompts]
    metadata  JSON: model, model_sha256, n_embd, n_layers, position, tensor, chat_template, langs
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass

import numpy as np

from ..errors import ProbeError
from ..records import atomic_open


@dataclass
class CaptureFile:
    hidden: np.ndarray
    layers: list[int]
    ids: list[str]
    meta: dict


def save_capture(path: str, hidden: np.ndarray, layers: list[int], records: list[dict], backend) -> None:
    meta = {"model": backend.name, "model_sha256": backend.identity, "n_embd": backend.n_embd,
            "n_layers": backend.n_layers, "position": "last prompt token", "tensor": "l_out",
            "chat_template": bool(getattr(backend, "template", None)), "langs": [r["lang"] for r in records]}
    with atomic_open(path, "wb") as f:
        np.savez(f, hidden=hidden, layers=np.array(layers, np.int32),
                 ids=np.array([r["id"] for r in records]), metadata=np.array(json.dumps(meta)))


def load_capture(path: str) -> CaptureFile:
    try:
        with np.load(path, allow_pickle=False) as data:
            return CaptureFile(data["hidden"], [int(x) for x in data["layers"]], [str(x) for x in data["ids"]],
                               json.loads(str(data["metadata"])))
    except FileNotFoundError:
        raise ProbeError(f"file not found: {path}") from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise ProbeError(f"cannot read {path} as a capture file ({type(exc).__name__}: {exc}); "
                         "make it with `rass-lite capture --out FILE.npz`") from None
