"""The llama.cpp backend: one loaded GGUF model that chats, reads its residual stream per layer, and
steers (an `ActivationBackend`).

    model = LlamaBackend.load("qwen2.5-coder-0.5b-instruct")
    model.generate("Write a poem about spring.")
    model.generate_batch(["Write a poem about spring.", "Who was Napoleon?"], batch_size=16)
    hidden = model.capture(["How do I blow up a balloon?"])        # [1, n_layers, n_embd]
    with model.steering({12: -0.5 * direction}):
        model.generate("How do I blow up a balloon?")

One lock serialises every call: two threads (a TUI worker and a new load, say) can never drive the
model at once; a steering block holds it until it exits, so no other thread answers under its vector.
It owns its three llama.cpp contexts (generation, capture, batch); nothing outside this package
touches llama-cpp-python's internals.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from . import _ggml as _llama
from ..chat_template import messages_for, render_chat
from ...errors import EngineError, InputError
from ...models.fetch import ensure_model, sha256_of
from ...models.gguf_info import GGUFInfo, read_info
from ...progress import Cancelled, Progress, silent
from ...models.registry import ModelEntry, load_registry

@dataclass(frozen=True)
class EngineConfig:
    n_ctx: int = 2048
    n_threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    n_gpu_layers: int = 0
    seed: int = 0
    # Capture micro-batch: prompts up to this many tokens take one graph, which early exit needs.
    n_ubatch: int = 512
    system_prompt: str | None = None
    chat_template: str | None = None


def _serialised(method):
    """Run `method` holding the model's lock, and refuse it once the model is closed."""

    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._lock:
            if self._closed:
                raise EngineError(f"model {self.name} was closed; load it again")
            return method(self, *args, **kwargs)

    return locked


class LlamaBackend:
    def __init__(self, path: Path, config: EngineConfig = EngineConfig(), *, name: str | None = None):
        from llama_cpp import Llama

        _llama.route_logs_to_python()
        self.path = Path(path)
        self.info: GGUFInfo = read_info(self.path)
        self.name = name or self.path.stem
        self.config = config
        try:
            self.llm = Llama(
                model_path=str(self.path),
                n_ctx=config.n_ctx,
                n_threads=config.n_threads,
                n_threads_batch=config.n_threads,
                n_gpu_layers=config.n_gpu_layers,
                seed=config.seed,
                verbose=False,
            )
        except ValueError as exc:
            raise EngineError(f"llama.cpp could not load {self.path}: {exc}") from None
        self.template = config.chat_template or self.info.chat_template
        self._capture: _llama.LayerCapture | None = None
        self._batcher: _llama.BatchGenerator | None = None
        self._control: tuple[np.ndarray, int, int] | None = None  # the steering in force, for new contexts
        self._sha256: str | None = None
        self._lock = threading.RLock()
        self._closed = False

    @classmethod
    def load(cls, model: str | None = None, *, models_file: str | None = None,
             progress: Progress | None = None, **overrides) -> "LlamaBackend":
        """Load a registry entry by name (the default when None) or a path to a .gguf."""
        return cls.from_entry(load_registry(models_file).get(model), progress=progress, **overrides)

    @classmethod
    def from_entry(cls, entry: ModelEntry, *, progress: Progress | None = None, **overrides) -> "LlamaBackend":
        path = ensure_model(entry, progress)
        settings = dict(n_ctx=entry.n_ctx, n_gpu_layers=entry.n_gpu_layers,
                        system_prompt=entry.system_prompt, chat_template=entry.chat_template)
        settings.update({k: v for k, v in overrides.items() if v is not None})
        return cls(path, EngineConfig(**settings), name=entry.name)

    def close(self) -> None:
        """Free the contexts; waits for a call in progress (another thread's) to finish first."""
        with self._lock:
            if self._closed:
                return
            for helper in (self._capture, self._batcher):
                if helper is not None:
                    helper.close()
            self._capture = self._batcher = None
            self.llm.close()
            self._closed = True

    def __enter__(self) -> "LlamaBackend":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- facts -------------------------------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        return self.info.n_layers

    @property
    def n_embd(self) -> int:
        return self.info.n_embd

    @property
    def architecture(self) -> str:
        return self.info.architecture

    @property
    def sha256(self) -> str:
        if self._sha256 is None:
            self._sha256 = sha256_of(self.path)
        return self._sha256

    @property
    def identity(self) -> str:
        return self.sha256

    # --- text -> tokens ----------------------------------------------------------------------------
    def format_chat(self, prompt: str, system: str | None = None) -> str:
        """`prompt` as the model's chat template lays it out, ending where the answer starts."""
        if not prompt or not prompt.strip():
            raise InputError("the prompt is empty; give a non-empty prompt")
        if not self.template:
            raise InputError(
                f"model {self.name!r} has no chat template; set chat_template in its models.toml entry, "
                "or use a chat (instruct) model"
            )
        system = system if system is not None else self.config.system_prompt
        vocab = self.llm._model
        return render_chat(self.template, messages_for(prompt, system),
                           bos_token=vocab.token_get_text(vocab.token_bos()) if vocab.token_bos() >= 0 else "",
                           eos_token=vocab.token_get_text(vocab.token_eos()) if vocab.token_eos() >= 0 else "")

    def tokenize_text(self, text: str) -> list[int]:
        """Tokens of already formatted text: special tokens parsed, BOS added once when the model wants it."""
        tokens = self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        bos = self.llm.token_bos()
        if self.llm._model.add_bos_token() and bos >= 0 and (not tokens or tokens[0] != bos):
            tokens = [bos] + tokens
        return tokens

    @_serialised
    def chat_tokens(self, prompt: str, system: str | None = None) -> list[int]:
        tokens = self.tokenize_text(self.format_chat(prompt, system))
        self._check_length(tokens)
        return tokens

    def _check_length(self, tokens: Sequence[int], reserve: int = 0) -> None:
        limit = self.config.n_ctx - reserve
        if len(tokens) > limit:
            raise InputError(
                f"the prompt is {len(tokens)} tokens but the context holds {limit}"
                + (f" (n_ctx {self.config.n_ctx} minus {reserve} for the answer)" if reserve else "")
                + "; shorten it or raise n_ctx in models.toml"
            )

    # --- generation --------------------------------------------------------------------------------
    @_serialised
    def generate(self, prompt: str, *, system: str | None = None, max_tokens: int = 256,
                 temperature: float = 0.0, seed: int | None = None) -> str:
        """The model's answer to one user turn: greedy by default, seeded when sampling."""
        tokens = self.chat_tokens(prompt, system)
        return self.generate_tokens(tokens, max_tokens=max_tokens, temperature=temperature, seed=seed)

    @_serialised
    def choose(self, prompt: str, choices: Sequence[str], *, system: str | None = None) -> str:
        """Greedy answer constrained by a llama.cpp grammar to exactly one of `choices`."""
        from llama_cpp import LlamaGrammar

        rule = " | ".join(json.dumps(c) for c in choices)
        grammar = LlamaGrammar.from_string(f"root ::= {rule}", verbose=False)
        tokens = self.chat_tokens(prompt, system)
        longest = max(len(self.tokens_of(c)) for c in choices) + 2
        return self.generate_tokens(tokens, max_tokens=longest, grammar=grammar).strip()

    @_serialised
    def generate_batch(self, prompts: Sequence[str], *, system: str | None = None, max_tokens: int = 256,
                       batch_size: int, on_answer=None, should_stop=lambda: False) -> list[str | None]:
        """Greedy answers to many prompts, `batch_size` at a time (about twice as fast as `generate` on
        a CPU). `on_answer(i, text)` is called as each answer ends; when `should_stop()` turns true the
        unfinished ones are None.

        Prompts are answered in fixed chunks by position (0..batch_size-1, ...), and an answer depends
        only on its chunk, so a caller that redoes whole chunks repeats it exactly. An answer equals
        `generate`'s token for token up to the first near-tie, where the plain path's two best tokens
        are within 0.25 logits: llama.cpp's rounding differs between batch shapes (tested)."""
        token_lists = [self.chat_tokens(p, system) for p in prompts]
        for tokens in token_lists:
            self._check_length(tokens, reserve=min(max_tokens, self.config.n_ctx // 2))
        texts: list[str | None] = [None] * len(prompts)

        def finish(i: int, tokens: list[int]) -> None:
            texts[i] = self.detokenize(tokens, token_lists[i])
            if on_answer is not None:
                on_answer(i, texts[i])

        self.generate_batch_tokens(token_lists, max_tokens=max_tokens, batch_size=batch_size,
                                   on_done=finish, should_stop=should_stop)
        return texts

    @_serialised
    def generate_batch_tokens(self, token_lists: Sequence[list[int]], *, max_tokens: int, batch_size: int,
                              on_done=lambda i, tokens: None, should_stop=lambda: False) -> list[list[int] | None]:
        """`generate_batch` on token lists; returns answer tokens (None where stopped)."""
        if batch_size < 1:
            raise InputError("the batch size must be at least 1")
        out: list[list[int] | None] = [None] * len(token_lists)
        for start in range(0, len(token_lists), batch_size):
            if should_stop():
                break
            chunk = list(token_lists[start:start + batch_size])
            n_prefix = len(_shared_prefix(chunk))
            cells = n_prefix + sum(len(t) - n_prefix + max_tokens for t in chunk)
            generator = self._batch_generator(batch_size, cells)
            out[start:start + len(chunk)] = generator.greedy(
                chunk, n_prefix, max_tokens, on_done=lambda i, tokens, start=start: on_done(start + i, tokens), should_stop=should_stop)
        return out

    def _batch_generator(self, n_seq: int, cells: int) -> _llama.BatchGenerator:
        """The cached batch context, made anew when it has too few sequences or KV cells."""
        gen = self._batcher
        if gen is None or gen.n_seq < n_seq or gen.n_ctx < cells:
            if gen is not None:
                gen.close()
            n_ctx = max(self.config.n_ctx, -(-cells // 512) * 512)
            gen = self._batcher = _llama.BatchGenerator(self.llm._model.model, n_seq=n_seq, n_ctx=n_ctx,
                                                        n_threads=self.config.n_threads)
            if self._control is not None:
                gen.set_control_vector(*self._control)
        return gen

    @_serialised
    def detokenize(self, answer: list[int], prompt_tokens: list[int]) -> str:
        """Answer text as llama-cpp-python's completion gives it (a torn last character dropped)."""
        return self.llm.detokenize(answer, prev_tokens=prompt_tokens).decode("utf-8", errors="ignore")

    @_serialised
    def tokens_of(self, text: str) -> list[int]:
        """Plain tokens of `text`: no BOS, special tokens not parsed."""
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    @_serialised
    def generate_tokens(self, tokens: list[int], *, max_tokens: int = 256, temperature: float = 0.0,
                        seed: int | None = None, grammar=None) -> str:
        self._check_length(tokens, reserve=min(max_tokens, self.config.n_ctx // 2))
        # llama-cpp-python's prompt-cache reuse changes what a seeded sampler draws: start clean, so
        # the same inputs always give the same outputs (the re-evaluated prompt costs ~0.1 s).
        self.llm.reset()
        out = self.llm.create_completion(
            tokens, max_tokens=max_tokens, temperature=temperature, top_k=40, top_p=0.95, min_p=0.05,
            repeat_penalty=1.0, seed=self.config.seed if seed is None else seed, grammar=grammar,
        )
        return out["choices"][0]["text"]

    # --- hidden states -----------------------------------------------------------------------------
    def _capturer(self) -> _llama.LayerCapture:
        if self._capture is None:
            self._capture = _llama.LayerCapture(
                self.llm._model.model, n_ctx=self.config.n_ctx, n_ubatch=self.config.n_ubatch,
                n_threads=self.config.n_threads, n_layers=self.n_layers, n_embd=self.n_embd,
            )
        return self._capture

    @_serialised
    def capture(self, prompts: Sequence[str], layers: Sequence[int] | None = None, *,
                system: str | None = None, stop_at_layer: bool = False, position: str = "last",
                progress: Progress | None = None, should_stop=lambda: False) -> np.ndarray:
        """Residual stream `l_out` at the last prompt token of each chat-formatted prompt, or with
        `position="instruction"` at the last token of the user's instruction, before the template's
        post-instruction tokens (end of turn, assistant header): causal attention makes that row the
        same whether or not the later tokens follow.

        Returns float32 [n_prompts, n_layers_selected, n_embd]. `stop_at_layer` stops each forward
        pass at the deepest requested layer and decodes the prompts' shared chat prefix only once;
        the tests prove it equal to the plain path within 1e-4. Raises `Cancelled` when
        `should_stop()` turns true between prompts."""
        token_lists = [self.chat_tokens(p, system) if self.template else self._raw_tokens(p) for p in prompts]
        if position == "instruction" and self.template:
            cut = len(self.post_instruction_tokens(system))
            token_lists = [t[:len(t) - cut] for t in token_lists]
        elif position not in ("last", "instruction"):
            raise InputError(f"unknown token position {position!r}; use last or instruction")
        return self.capture_tokens(token_lists, layers, stop_at_layer=stop_at_layer, progress=progress,
                                   should_stop=should_stop)

    @_serialised
    def post_instruction_tokens(self, system: str | None = None) -> list[int]:
        """The tokens the chat template puts after every user turn (end of turn, assistant header):
        the common suffix of two unrelated prompts' chat tokens."""
        a, b = self.chat_tokens("x", system), self.chat_tokens("Why? Tell me, please.", system)
        n = 0
        while n < min(len(a), len(b)) - 1 and a[-1 - n] == b[-1 - n]:
            n += 1
        return a[len(a) - n:]

    def _raw_tokens(self, prompt: str) -> list[int]:
        if not prompt.strip():
            raise InputError("the prompt is empty; give a non-empty prompt")
        tokens = self.tokenize_text(prompt)
        self._check_length(tokens)
        return tokens

    @_serialised
    def capture_tokens(self, token_lists: Sequence[list[int]], layers: Sequence[int] | None = None, *,
                       stop_at_layer: bool = False, progress: Progress | None = None,
                       should_stop=lambda: False) -> np.ndarray:
        layers = self.check_layers(layers)
        progress = progress or silent
        cap = self._capturer()
        prefix = _shared_prefix(token_lists) if stop_at_layer else []
        cap.set_prefix(prefix)
        out = np.empty((len(token_lists), len(layers), self.n_embd), np.float32)
        for i, tokens in enumerate(token_lists):
            if should_stop():
                raise Cancelled("capture")
            out[i], _ = cap.run(tokens, layers, stop_early=stop_at_layer)
            progress(i + 1, len(token_lists), "capture")
        return out

    @_serialised
    def next_token_logits(self, prompt: str, *, system: str | None = None) -> np.ndarray:
        return self.last_token_logits(self.chat_tokens(prompt, system))

    @_serialised
    def first_token_probs(self, prompts: Sequence[str], token_ids: Sequence[Sequence[int]], *,
                          layers: Sequence[int] | None = None, system: str | None = None, progress: Progress | None = None,
                          should_stop=lambda: False) -> tuple[list[np.ndarray], np.ndarray | None]:
        """For each prompt, the probabilities of `token_ids[i]` as the first answer token (a full
        forward), and with `layers` the residual stream there [n, n_layers, n_embd] from the same
        pass. The chat prefix all prompts share is decoded once (equal to the plain path within 1e-4,
        tested)."""
        picked, states = [], self._state_rows(len(prompts), layers)
        for i, p in self._first_token_pass(prompts, layers, states, system, progress, should_stop):
            picked.append(p[list(token_ids[i])])
        return picked, states

    @_serialised
    def first_token_top(self, prompts: Sequence[str], k: int, *, layers: Sequence[int] | None = None,
                        system: str | None = None, progress: Progress | None = None,
                        should_stop=lambda: False) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The `k` likeliest first answer tokens of each prompt: (ids [n, k], probabilities [n, k],
        and with `layers` the states [n, n_layers, n_embd] of the same pass), as `first_token_probs`."""
        ids, probs = np.empty((len(prompts), k), np.int32), np.empty((len(prompts), k), np.float32)
        states = self._state_rows(len(prompts), layers)
        for i, p in self._first_token_pass(prompts, layers, states, system, progress, should_stop):
            top = np.argpartition(-p, k)[:k]
            top = top[np.argsort(-p[top], kind="stable")]
            ids[i], probs[i] = top, p[top]
        return ids, probs, states

    def _state_rows(self, n: int, layers: Sequence[int] | None) -> np.ndarray | None:
        return np.empty((n, len(self.check_layers(layers)), self.n_embd), np.float32) if layers is not None else None

    def _first_token_pass(self, prompts, layers, states, system, progress, should_stop):
        """Yields (i, first-token distribution [n_vocab]) per prompt, filling `states` (when given)
        with `layers`: one full forward each on the capture context, the shared chat prefix decoded once."""
        progress = progress or silent
        token_lists = [self.chat_tokens(p, system) for p in prompts]
        cap = self._capturer()
        cap.set_prefix(_shared_prefix(token_lists))
        want = self.check_layers(layers) if layers is not None else [self.n_layers - 1]
        for i, tokens in enumerate(token_lists):
            if should_stop():
                raise Cancelled("first-token scores")
            rows, logits = cap.run(tokens, want, stop_early=False, want_logits=True)
            logits = logits.astype(np.float64)
            p = np.exp(logits - logits.max())
            if states is not None:
                states[i] = rows
            yield i, p / p.sum()
            progress(i + 1, len(prompts), "behaviour score")

    @_serialised
    def last_token_logits(self, tokens: list[int]) -> np.ndarray:
        """Next-token logits [n_vocab] after `tokens` (a full forward on the capture context)."""
        cap = self._capturer()
        cap.set_prefix([])
        _, logits = cap.run(tokens, [self.n_layers - 1], stop_early=False, want_logits=True)
        return logits

    def check_layers(self, layers: Sequence[int] | None) -> list[int]:
        if layers is None:
            return list(range(self.n_layers))
        layers = [int(il) for il in layers]
        bad = [il for il in layers if not 0 <= il < self.n_layers]
        if bad or not layers:
            raise InputError(f"layer {bad[0] if bad else '(none)'} is outside the model: {self.name} has layers 0..{self.n_layers - 1}")
        return layers

    # --- steering ----------------------------------------------------------------------------------
    @contextmanager
    def steering(self, directions: dict[int, np.ndarray], scale: float = 1.0,
                 layers: tuple[int, int] | None = None) -> Iterator[None]:
        """Add `scale * directions[N]` to the output of block N (at every position) while inside.

        Block indices are llama.cpp's `l_out-N`; N = 0 cannot be steered. `layers` (inclusive) keeps
        only blocks in that range. Holds the model's lock until exit, then clears the vector and the
        cached prompt state."""
        with self._lock:
            if self._closed:
                raise EngineError(f"model {self.name} was closed; load it again")
            rows, lo, hi = self.control_rows(directions, scale, layers)
            cap = self._capturer()
            self.llm.reset()
            try:
                _llama.set_control_vector(self.llm._ctx.ctx, rows, lo, hi)
                cap.set_control_vector(rows, lo, hi)
                self._control = (rows, lo, hi)
                if self._batcher is not None:
                    self._batcher.set_control_vector(rows, lo, hi)
                yield
            finally:
                _llama.set_control_vector(self.llm._ctx.ctx, None)
                cap.set_control_vector(None)
                self._control = None
                if self._batcher is not None:
                    self._batcher.set_control_vector(None)
                # Tokens cached under the vector must not be reused without it.
                self.llm.reset()

    def control_rows(self, directions: dict[int, np.ndarray], scale: float,
                     layers: tuple[int, int] | None) -> tuple[np.ndarray, int, int]:
        """llama.cpp's control-vector buffer: [n_layers, n_embd], row k for block k+1."""
        rows = np.zeros((self.n_layers, self.n_embd), np.float32)
        chosen = []
        for block, vector in directions.items():
            vector = np.asarray(vector, np.float32)
            if vector.shape != (self.n_embd,):
                raise EngineError(f"control vector for block {block} has {vector.shape[-1]} values; {self.name} has n_embd {self.n_embd}")
            if not 1 <= block < self.n_layers:
                raise EngineError(f"control vector block {block} does not fit {self.name}: steerable blocks are 1..{self.n_layers - 1}")
            if layers is None or layers[0] <= block <= layers[1]:
                rows[block - 1] = scale * vector
                chosen.append(block)
        if not chosen:
            raise EngineError(f"no control-vector block falls in layers {layers[0]}-{layers[1]}" if layers else "the control vector is empty")
        return rows, min(chosen), max(chosen)


def _shared_prefix(token_lists: Sequence[list[int]]) -> list[int]:
    """Longest common token prefix, leaving at least one token of every prompt to decode."""
    if len(token_lists) < 2:
        return []
    first = token_lists[0]
    n = min(len(t) for t in token_lists) - 1
    for i in range(n):
        if any(t[i] != first[i] for t in token_lists):
            return first[:i]
    return first[:n]
