"""Rows for a models table (CLI `models list`, the TUI's Models screen): one per registry entry."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .fetch import cached_path, is_cached
from .gguf_info import read_info
from .registry import Registry


@dataclass(frozen=True)
class ModelRow:
    name: str
    default: bool
    kind: str  # "local" (a GGUF) or "served" (an OpenAI-compatible endpoint)
    size: int | None
    cached: bool | None  # None for a served model
    where: str  # the GGUF's path, or the endpoint
    description: str
    n_layers: int | None = None  # from the GGUF header, when cached
    n_embd: int | None = None
    chat_template: bool | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def describe_models(registry: Registry, *, headers: bool = False) -> list[ModelRow]:
    """Every entry; with `headers`, cached GGUFs' layer count, width and chat template (a fast read)."""
    rows = []
    for e in registry.entries.values():
        if e.served:
            rows.append(ModelRow(e.name, e.name == registry.default, "served", None, None,
                                 f"{e.endpoint} ({e.api_model})", e.description))
            continue
        cached = is_cached(e)
        extra = {}
        if headers and cached:
            info = read_info(cached_path(e))
            extra = {"n_layers": info.n_layers, "n_embd": info.n_embd,
                     "chat_template": info.has_chat_template or bool(e.chat_template)}
        rows.append(ModelRow(e.name, e.name == registry.default, "local", e.size, cached, str(cached_path(e)),
                             e.description, **extra))
    return rows
