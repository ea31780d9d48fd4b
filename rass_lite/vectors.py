"""Control vectors as llama.cpp's control-vector GGUF (`--control-vector FILE`).

Layout: general.architecture = "controlvector", controlvector.model_hint (architecture string),
controlvector.layer_count, and one F32 tensor `direction.N` [n_embd] per steered block N >= 1,
added to the output of block N. Convention kept here: a direction measured at `l_out-N` is written
as `direction.N`, so it acts where it was measured (repeng does the same; llama.cpp's own
cvector-generator shifts by one).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError


@dataclass
class ControlVector:
    directions: dict[int, np.ndarray]  # block N -> float32 [n_embd]
    model_hint: str = ""

    @property
    def n_embd(self) -> int:
        return next(iter(self.directions.values())).shape[0]

    def scaled(self, scale: float, layers: tuple[int, int] | None = None) -> "ControlVector":
        keep = {n: scale * v for n, v in self.directions.items() if layers is None or layers[0] <= n <= layers[1]}
        return ControlVector(keep, self.model_hint)

    def save(self, path: str | Path) -> None:
        from gguf import GGUFWriter

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            writer = GGUFWriter(tmp, "controlvector")
            writer.add_string("controlvector.model_hint", self.model_hint)
            writer.add_uint32("controlvector.layer_count", len(self.directions))
            for block in sorted(self.directions):
                writer.add_tensor(f"direction.{block}", np.asarray(self.directions[block], np.float32))
            writer.write_header_to_file()
            writer.write_kv_data_to_file()
            writer.write_tensors_to_file()
            writer.close()
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)

    @classmethod
    def load(cls, path: str | Path) -> "ControlVector":
        from gguf import GGUFReader

        path = Path(path)
        if not path.is_file():
            raise InputError(f"control-vector file not found: {path}")
        try:
            reader = GGUFReader(path, "r")
        except Exception as exc:  # the reader raises many kinds of errors on a bad file
            raise InputError(f"{path} is not a readable GGUF control vector ({type(exc).__name__}: {exc})") from None
        arch = reader.fields.get("general.architecture")
        if arch is None or arch.contents() != "controlvector":
            raise InputError(f"{path} is not a control-vector GGUF (general.architecture is not 'controlvector')")
        hint = reader.fields.get("controlvector.model_hint")
        directions = {}
        for tensor in reader.tensors:
            prefix, _, block = tensor.name.partition(".")
            if prefix != "direction" or not block.isdigit():
                continue
            directions[int(block)] = np.array(tensor.data, dtype=np.float32).reshape(-1)
        if not directions:
            raise InputError(f"{path} holds no direction.N tensors")
        return cls(directions, hint.contents() if hint is not None else "")
