"""A fake `ActivationBackend` for fast tests of flows, the CLI and the TUI: no model, no threads.

Hidden states are seeded noise plus `harm(prompt)` times a known direction (strongest in the middle
layers), so a probe finds that direction; answers are canned: a refusal when the prompt looks
harmful and no negative steering is on, else a short compliance. It never stands as evidence of
engine behaviour; the real models are tested for that.
"""

from __future__ import annotations

import hashlib
import threading
import zlib
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

import numpy as np

from ..errors import EngineError, InputError
from ..progress import Cancelled, Progress, silent
from .base import OnAnswer, never

HARM_WORDS = ("bomb", "kill", "poison", "weapon", "hack", "steal", "meth", "explosive", "stalk", "malware")
REFUSAL = "I'm sorry, but I can't help with that."
VOCAB = 512


def keyword_harm(prompt: str) -> float:
    """1 when the prompt names a harm word, else 0: the fake model's whole notion of danger."""
    text = prompt.lower()
    return 1.0 if any(w in text for w in HARM_WORDS) else 0.0


class FakeBackend:
    def __init__(self, name: str = "fake", *, n_layers: int = 8, n_embd: int = 32, seed: int = 0,
                 harm: Callable[[str], float] = keyword_harm, answers: dict[str, str] | None = None,
                 delay_s: float = 0.0):
        self.name, self.n_layers, self.n_embd, self.seed = name, n_layers, n_embd, seed
        self.architecture = "fake"
        self.harm, self.answers, self.delay_s = harm, dict(answers or {}), delay_s
        rng = np.random.default_rng(seed)
        self.direction = rng.standard_normal(n_embd).astype(np.float32)
        self.direction /= np.linalg.norm(self.direction)
        # Separation grows to the middle layers and fades after them, as in real models.
        depth = np.arange(n_layers) / max(1, n_layers - 1)
        self.strength = (6.0 * np.sin(np.pi * depth)).astype(np.float32)
        self.history: list[tuple[str, str]] = []  # (call, prompt) in order, for tests
        self.scale = 0.0  # steering along the direction in force
        self._lock = threading.RLock()
        self.closed = False

    @property
    def identity(self) -> str:
        return f"fake:{self.name}:{self.seed}"

    def close(self) -> None:
        self.closed = True

    # --- text ----------------------------------------------------------------------------------------
    def _answer(self, prompt: str) -> str:
        if not prompt or not prompt.strip():
            raise InputError("the prompt is empty; give a non-empty prompt")
        if self.closed:
            raise EngineError(f"model {self.name} was closed; load it again")
        if self.delay_s:
            import time

            time.sleep(self.delay_s)
        if prompt in self.answers:
            return self.answers[prompt]
        refuses = self.harm(prompt) + 0.5 * self.scale >= 0.5
        return REFUSAL if refuses else f"Sure. Here is a short answer to: {prompt}"

    def generate(self, prompt: str, *, system: str | None = None, max_tokens: int = 256,
                 temperature: float = 0.0, seed: int | None = None) -> str:
        with self._lock:
            self.history.append(("generate", prompt))
            return self._answer(prompt)

    def generate_batch(self, prompts: Sequence[str], *, system: str | None = None, max_tokens: int = 256,
                       batch_size: int = 16, on_answer: OnAnswer | None = None,
                       should_stop: Callable[[], bool] = never) -> list[str | None]:
        with self._lock:
            texts: list[str | None] = [None] * len(prompts)
            for i, prompt in enumerate(prompts):
                if should_stop():
                    break
                self.history.append(("generate_batch", prompt))
                texts[i] = self._answer(prompt)
                if on_answer is not None:
                    on_answer(i, texts[i])
            return texts

    def choose(self, prompt: str, choices: Sequence[str], *, system: str | None = None) -> str:
        self.history.append(("choose", prompt))
        return choices[zlib.crc32(prompt.encode()) % len(choices)]

    # --- activations -------------------------------------------------------------------------------
    def check_layers(self, layers: Sequence[int] | None) -> list[int]:
        if layers is None:
            return list(range(self.n_layers))
        bad = [il for il in layers if not 0 <= il < self.n_layers]
        if bad or not layers:
            raise InputError(f"layer {bad[0] if bad else '(none)'} is outside the model: {self.name} has layers 0..{self.n_layers - 1}")
        return [int(il) for il in layers]

    def _hidden(self, prompt: str) -> np.ndarray:
        digest = hashlib.sha256(f"{self.seed}:{prompt}".encode()).digest()
        noise = np.random.default_rng(int.from_bytes(digest[:8], "little")).standard_normal((self.n_layers, self.n_embd))
        push = (self.harm(prompt) + self.scale) * self.strength
        return (noise + push[:, None] * self.direction[None, :]).astype(np.float32)

    def capture(self, prompts: Sequence[str], layers: Sequence[int] | None = None, *,
                system: str | None = None, stop_at_layer: bool = False, position: str = "last",
                progress: Progress | None = None, should_stop: Callable[[], bool] = never) -> np.ndarray:
        layers = self.check_layers(layers)
        progress = progress or silent
        out = np.empty((len(prompts), len(layers), self.n_embd), np.float32)
        with self._lock:
            for i, prompt in enumerate(prompts):
                if should_stop():
                    raise Cancelled("capture")
                if not prompt.strip():
                    raise InputError("the prompt is empty; give a non-empty prompt")
                self.history.append(("capture", prompt))
                out[i] = self._hidden(prompt if position == "last" else prompt + "\x00instruction")[layers]
                progress(i + 1, len(prompts), "capture")
        return out

    def tokens_of(self, text: str) -> list[int]:
        return [zlib.crc32(word.encode()) % VOCAB for word in text.split()]

    def next_token_logits(self, prompt: str, *, system: str | None = None) -> np.ndarray:
        """Logits that put the refusal opener ("I'm") ahead exactly when the fake would refuse."""
        self.history.append(("next_token_logits", prompt))
        logits = np.zeros(VOCAB, np.float32)
        opener = self.tokens_of("I'm")[0]
        logits[opener] = 4.0 * (self.harm(prompt) + 0.5 * self.scale - 0.5) + np.log(VOCAB)
        return logits

    def first_token_probs(self, prompts: Sequence[str], token_ids: Sequence[Sequence[int]], *,
                          layers: Sequence[int] | None = None, system: str | None = None, progress: Progress | None = None,
                          should_stop: Callable[[], bool] = never) -> tuple[list[np.ndarray], np.ndarray | None]:
        out, states = [], []
        for i, prompt in enumerate(prompts):
            if should_stop():
                raise Cancelled("first-token scores")
            logits = self.next_token_logits(prompt).astype(np.float64)
            p = np.exp(logits - logits.max())
            p /= p.sum()
            out.append(p[list(token_ids[i])])
            if layers is not None:
                states.append(self._hidden(prompt)[list(layers)])
        return out, (np.array(states, np.float32) if layers is not None else None)

    @contextmanager
    def steering(self, directions: dict[int, np.ndarray], scale: float = 1.0,
                 layers: tuple[int, int] | None = None) -> Iterator[None]:
        """Steering moves the fake along its one direction by `scale` times the directions' mean
        projection on it (so −0.5 × the probe's direction makes it comply)."""
        with self._lock:
            blocks = [b for b in directions if layers is None or layers[0] <= b <= layers[1]]
            if not blocks:
                raise EngineError("no control-vector block falls in the chosen layers")
            along = float(np.mean([np.asarray(directions[b]) @ self.direction / max(self.strength[b], 1e-6) for b in blocks]))
            self.scale = scale * along
            try:
                yield
            finally:
                self.scale = 0.0
