"""The two interfaces every step is typed against.

- `TextBackend`: chat answers, one at a time or in batches, and a choice among fixed labels. A local
  GGUF (`LlamaBackend`), any OpenAI-compatible server (`ServedBackend`) and `FakeBackend` give it.
- `ActivationBackend`: that, plus per-layer hidden states, next-token logits and steering. Only a
  local GGUF (and the fake) can: a step that needs activations calls `require_activations` first, so
  a served model gets one clear error instead of an AttributeError deep inside.

`should_stop` is polled between decode steps (or requests): when it turns true, unfinished answers
come back as None and finished ones are kept.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Callable, Protocol, Sequence, runtime_checkable

import numpy as np

from ..errors import InputError
from ..progress import Progress

OnAnswer = Callable[[int, str], None]


def never() -> bool:
    return False


@runtime_checkable
class TextBackend(Protocol):
    name: str

    @property
    def identity(self) -> str:
        """What a run records as "the model": a GGUF's sha256, or endpoint#model for a served one."""

    def generate(self, prompt: str, *, system: str | None = None, max_tokens: int = 256,
                 temperature: float = 0.0, seed: int | None = None) -> str: ...

    def generate_batch(self, prompts: Sequence[str], *, system: str | None = None, max_tokens: int = 256,
                       batch_size: int, on_answer: OnAnswer | None = None,
                       should_stop: Callable[[], bool] = never) -> list[str | None]: ...

    def choose(self, prompt: str, choices: Sequence[str], *, system: str | None = None) -> str: ...

    def close(self) -> None: ...


@runtime_checkable
class ActivationBackend(TextBackend, Protocol):
    n_layers: int
    n_embd: int
    architecture: str

    def capture(self, prompts: Sequence[str], layers: Sequence[int] | None = None, *,
                system: str | None = None, stop_at_layer: bool = False, position: str = "last",
                progress: Progress | None = None, should_stop: Callable[[], bool] = never) -> np.ndarray:
        """Residual stream at the last prompt token (or, with position="instruction", the last token
        of the user's instruction): float32 [n_prompts, n_layers_selected, n_embd]."""

    def next_token_logits(self, prompt: str, *, system: str | None = None) -> np.ndarray:
        """Logits [n_vocab] of the first answer token (one full forward, no generation)."""

    def first_token_probs(self, prompts: Sequence[str], token_ids: Sequence[Sequence[int]], *,
                          layers: Sequence[int] | None = None, system: str | None = None, progress: Progress | None = None,
                          should_stop: Callable[[], bool] = never) -> tuple[list[np.ndarray], np.ndarray | None]:
        """Probabilities of `token_ids[i]` as prompt i's first answer token, many prompts sharing
        their chat prefix; with `layers`, those layers' hidden states [n, n_layers, n_embd] from the
        same pass."""

    def tokens_of(self, text: str) -> list[int]:
        """Plain tokens of `text` (no BOS, special tokens not parsed)."""

    def check_layers(self, layers: Sequence[int] | None) -> list[int]: ...

    def steering(self, directions: dict[int, np.ndarray], scale: float = 1.0,
                 layers: tuple[int, int] | None = None) -> AbstractContextManager[None]: ...


def activations_error(name: str, what: str) -> InputError:
    return InputError(
        f"{what} needs the model's hidden states, which a served model ({name}) does not expose; "
        "use a local GGUF model from models.toml (an entry with path, url or pypi) for this step"
    )


def require_activations(backend: TextBackend, what: str) -> ActivationBackend:
    """`backend` as an ActivationBackend, or one clear error naming what to use instead."""
    if isinstance(backend, ActivationBackend):
        return backend
    raise activations_error(backend.name, what)
