"""Read a GGUF's metadata with the `gguf` package, without loading weights."""

from __future__ import annotations

import math
import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ModelFileError

_MAGIC = b"GGUF"


@dataclass(frozen=True)
class GGUFInfo:
    path: Path
    size: int
    name: str
    architecture: str
    n_layers: int
    n_embd: int
    context_length: int
    quantization: str
    chat_template: str | None
    rms_eps: float | None = None  # epsilon of the model's RMSNorm layers

    @property
    def has_chat_template(self) -> bool:
        return bool(self.chat_template)


def check_gguf(path: Path) -> None:
    """Fail with one clear message unless `path` is an existing GGUF file holding all its tensor data."""
    read_info(path)


def read_info(path: Path) -> GGUFInfo:
    from gguf import LlamaFileType

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}")
    size = path.stat().st_size
    with open(path, "rb") as f:
        if f.read(4) != _MAGIC:
            raise ModelFileError(f"{path} is not a GGUF file (no GGUF magic at its start); pass a .gguf model")
        if size < 24:
            raise ModelFileError(f"{path} is a truncated GGUF ({size} bytes); fetch or copy it again")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            try:
                meta, tensors, data_start = _parse_header(buf)
            except (struct.error, IndexError, ValueError, KeyError, UnicodeDecodeError) as exc:
                raise ModelFileError(f"{path} is a truncated or corrupt GGUF header ({exc}); fetch or copy it again") from None
    data_end = data_start + max((t.offset + t.nbytes for t in tensors.values()), default=0)
    if data_end > size:
        raise ModelFileError(f"{path} is truncated: its tensors need {data_end} bytes, the file has {size}; fetch or copy it again")

    arch = meta.get("general.architecture", "unknown")
    file_type = meta.get("general.file_type")
    try:
        quant = LlamaFileType(file_type).name.removeprefix("MOSTLY_") if file_type is not None else "unknown"
    except ValueError:
        quant = f"file_type {file_type}"
    return GGUFInfo(
        path=path,
        size=size,
        name=meta.get("general.name", path.stem),
        architecture=arch,
        n_layers=int(meta.get(f"{arch}.block_count", 0)),
        n_embd=int(meta.get(f"{arch}.embedding_length", 0)),
        context_length=int(meta.get(f"{arch}.context_length", 0)),
        quantization=quant,
        chat_template=meta.get("tokenizer.chat_template"),
        rms_eps=meta.get(f"{arch}.attention.layer_norm_rms_epsilon"),
    )


# GGUF value types -> struct format (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md).
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


@dataclass(frozen=True)
class _Tensor:
    dims: tuple[int, ...]
    qtype: int
    offset: int  # from the start of the data section
    nbytes: int


def read_f32_tensor(path: Path, name: str) -> np.ndarray:
    """One F32 tensor of a GGUF (e.g. `output_norm.weight`), flattened."""
    from gguf import GGMLQuantizationType

    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        _, tensors, data_start = _parse_header(buf)
        t = tensors[name]
        if t.qtype != GGMLQuantizationType.F32:
            raise ValueError(f"{name} is not F32")
        return np.frombuffer(buf, np.float32, math.prod(t.dims), data_start + t.offset).copy()


def _parse_header(buf) -> tuple[dict, dict[str, _Tensor], int]:
    """Scalar and string metadata (arrays skipped), tensor infos, and where the data section starts.

    A hand-rolled reader: gguf.GGUFReader builds numpy objects for every vocabulary string and takes
    seconds on a 150k-token vocabulary; this skips arrays and reads a header in milliseconds.
    """
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    pos = 4

    def take(fmt: str):
        nonlocal pos
        (value,) = struct.unpack_from(fmt, buf, pos)
        pos += struct.calcsize(fmt)
        return value

    def string() -> str:
        nonlocal pos
        n = take("<Q")
        if pos + n > len(buf):
            raise ValueError("string runs past the end of the file")
        pos += n
        return bytes(buf[pos - n : pos]).decode("utf-8")

    def value(vtype: int):
        nonlocal pos
        if vtype in _SCALARS:
            return take(_SCALARS[vtype])
        if vtype == _STRING:
            return string()
        if vtype == _ARRAY:
            item_type, count = take("<I"), take("<Q")
            if item_type in _SCALARS:
                pos += count * struct.calcsize(_SCALARS[item_type])
            elif item_type == _STRING:  # vocabularies: hop over length-prefixed strings, tight loop
                unpack, p = struct.Struct("<Q").unpack_from, pos
                for _ in range(count):
                    p += 8 + unpack(buf, p)[0]
                pos = p
            else:
                for _ in range(count):
                    value(item_type)
            return None
        raise ValueError(f"unknown GGUF value type {vtype}")

    version = take("<I")
    if version not in (2, 3):
        raise ValueError(f"unsupported GGUF version {version}")
    n_tensors, n_kv = take("<Q"), take("<Q")
    meta = {}
    for _ in range(n_kv):
        key = string()
        v = value(take("<I"))
        if v is not None:
            meta[key] = v
    tensors = {}
    for _ in range(n_tensors):
        name = string()
        dims = tuple(take("<Q") for _ in range(take("<I")))
        qtype, offset = take("<I"), take("<Q")
        block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(qtype)]
        tensors[name] = _Tensor(dims, qtype, offset, math.prod(dims) // block * type_size)
    align = int(meta.get("general.alignment", 32))
    return meta, tensors, -(-pos // align) * align
