"""Backends: what answers prompts. `load_backend` turns a models.toml name (or a .gguf path) into a
local llama.cpp model or a served one; steps take the `TextBackend` or `ActivationBackend` they need."""

from __future__ import annotations

from ..models.registry import ModelEntry, load_registry
from ..progress import Progress
from .base import ActivationBackend, TextBackend, require_activations


def load_backend(model: str | None = None, *, models_file: str | None = None, progress: Progress | None = None,
                 concurrency: int | None = None, **overrides) -> TextBackend:
    """The registry entry `model` (the default when None) loaded: a `ServedBackend` for an entry with
    `endpoint`, else a `LlamaBackend` (fetched first when needed). `overrides` are llama.cpp settings
    (n_threads, n_gpu_layers, ...); `concurrency` is the served backend's requests in flight."""
    return backend_for(load_registry(models_file).get(model), progress=progress, concurrency=concurrency, **overrides)


def backend_for(entry: ModelEntry, *, progress: Progress | None = None, concurrency: int | None = None,
                **overrides) -> TextBackend:
    if entry.served:
        from .served import ServedBackend

        return ServedBackend.from_entry(entry, concurrency=concurrency)
    from .llama import LlamaBackend

    return LlamaBackend.from_entry(entry, progress=progress, **overrides)


def side_model(name: str | None, current: TextBackend | None, load) -> TextBackend:
    """The model `name` for a second role (judge, generator): `current`, the model already loaded,
    when it is the same one (or `name` is None), else `load(name)`."""
    if current is not None and (not name or name == current.name):
        return current
    return load(name)


__all__ = ["ActivationBackend", "TextBackend", "backend_for", "load_backend", "require_activations", "side_model"]
