"""Every ctypes detail of rass-lite: ggml tensor reads, the eval callback, batches, control vectors, logs.

Only this package (rass_lite.backends.llama) touches ctypes or raw llama.cpp pointers; this module
hands out numpy arrays. Checked against llama-cpp-python 0.3.36 (eval callback, control-vector rows:
README, "How it works").
"""

from __future__ import annotations

import ctypes
import logging
import pathlib

import llama_cpp
import numpy as np
from llama_cpp._ctypes_extensions import load_shared_library

from ...errors import EngineError

log = logging.getLogger("rass_lite.llama")

# --- ggml tensor functions (llama-cpp-python does not bind them; they live in libggml-base) ---------
_ggml = load_shared_library("ggml-base", pathlib.Path(llama_cpp.__file__).parent / "lib")
# GGML_API const char * ggml_get_name(const struct ggml_tensor * tensor);
_ggml.ggml_get_name.argtypes, _ggml.ggml_get_name.restype = [ctypes.c_void_p], ctypes.c_char_p
# GGML_API size_t ggml_nbytes(const struct ggml_tensor * tensor);
_ggml.ggml_nbytes.argtypes, _ggml.ggml_nbytes.restype = [ctypes.c_void_p], ctypes.c_size_t
# GGML_API void ggml_backend_tensor_get(const struct ggml_tensor * tensor, void * data, size_t offset, size_t size);
_ggml.ggml_backend_tensor_get.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t]
_ggml.ggml_backend_tensor_get.restype = None

_DECODE_ABORTED = 2  # llama_decode's code when the eval callback stopped the graph


# --- logging -------------------------------------------------------------------------------------------
# enum ggml_log_level in ggml.h (0.3.36's vendored ggml; llama-cpp-python's own _logger maps an older order)
_LEVELS = {0: logging.CRITICAL, 1: logging.DEBUG, 2: logging.INFO, 3: logging.WARNING, 4: logging.ERROR}
_last_level = logging.DEBUG


@llama_cpp.llama_log_callback
def _log_callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    # C-level writes to stderr would tear a Textual screen: everything goes through Python logging.
    global _last_level
    _last_level = _LEVELS.get(level, _last_level)  # level 5 = continuation of the previous line
    try:
        message = text.decode("utf-8", errors="replace").rstrip("\n")
        if message:
            log.log(_last_level, message)
    except Exception:  # never raise into C
        pass


def route_logs_to_python() -> None:
    llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))


# --- control vectors -------------------------------------------------------------------------------------
def set_control_vector(ctx: int, rows: np.ndarray | None, il_start: int = 0, il_end: int = 0) -> None:
    """Add `rows` [n_layers, n_embd] (row k -> output of block k+1) to blocks il_start..il_end, or clear."""
    if rows is None:
        code = llama_cpp.llama_set_adapter_cvec(ctx, None, 0, 0, 0, 0)
    else:
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        data = rows.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        code = llama_cpp.llama_set_adapter_cvec(ctx, data, rows.size, rows.shape[1], il_start, il_end)
    if code != 0:
        raise EngineError(f"llama.cpp refused the control vector (code {code}); check its n_embd and layers")


# --- a capture context ------------------------------------------------------------------------------------
class LayerCapture:
    """A second llama_context on an already loaded model whose eval callback copies the residual stream
    `l_out-<il>` of the last prompt token. Weights are shared with the generation context; only KV and
    compute buffers are added. The callback stays off the generation context (each node read syncs)."""

    def __init__(self, model_ptr: int, *, n_ctx: int, n_ubatch: int, n_threads: int, n_layers: int, n_embd: int):
        self.n_layers, self.n_embd, self.n_ctx, self.n_ubatch = n_layers, n_embd, n_ctx, n_ubatch
        self._names = {f"l_out-{il}".encode(): il for il in range(n_layers)}
        self._want: set[int] = set()
        self._stop_at: int | None = None
        self._rows: np.ndarray = np.zeros((n_layers, n_embd), np.float32)
        self._seen: set[int] = set()
        self._error: BaseException | None = None
        # Keep the ctypes callback object alive as long as the context: C holds only its address.
        self._callback = llama_cpp.ggml_backend_sched_eval_callback(self._on_node)

        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx
        params.n_batch = n_ctx
        params.n_ubatch = n_ubatch
        params.n_seq_max = 1
        params.n_threads = params.n_threads_batch = n_threads
        params.embeddings = False
        # Same attention kernel as llama-cpp-python's generation context (flash attention off), so
        # captured states are the ones the model answers from.
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        params.cb_eval = self._callback
        params.cb_eval_user_data = None
        self.ctx = llama_cpp.llama_init_from_model(model_ptr, params)
        if not self.ctx:
            raise EngineError("llama.cpp could not create a capture context (out of memory? lower n_ctx)")
        self._memory = llama_cpp.llama_get_memory(self.ctx)
        # A C-owned batch: no Python array can be freed under llama_decode.
        self._batch = llama_cpp.llama_batch_init(n_ctx, 0, 1)
        self._prefix: list[int] = []
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(llama_cpp.llama_model_get_vocab(model_ptr))

    def close(self) -> None:
        if self.ctx:
            llama_cpp.llama_batch_free(self._batch)
            llama_cpp.llama_free(self.ctx)
            self.ctx = None

    def _on_node(self, tensor: int, ask: bool, user_data: int) -> bool:
        try:
            il = self._names.get(_ggml.ggml_get_name(tensor))
            if ask:
                return il is not None and il in self._want
            nbytes = _ggml.ggml_nbytes(tensor)
            row = self.n_embd * 4
            # The last block is pruned to output rows; an earlier micro-batch may hold none of them.
            if nbytes >= row:
                _ggml.ggml_backend_tensor_get(tensor, self._rows[il].ctypes.data, nbytes - row, row)
                self._seen.add(il)
            return il != self._stop_at  # False stops the graph: later layers are not computed
        except BaseException as exc:  # never raise into C; re-raised after llama_decode returns
            self._error = exc
            return False

    def _decode(self, tokens: list[int], start_pos: int, want_logits: bool) -> int:
        batch = self._batch
        for i, tok in enumerate(tokens):
            batch.token[i] = tok
            batch.pos[i] = start_pos + i
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = 0
            batch.logits[i] = 0
        batch.logits[len(tokens) - 1] = 1 if want_logits else 0
        batch.n_tokens = len(tokens)
        return llama_cpp.llama_decode(self.ctx, batch)

    def set_prefix(self, prefix: list[int]) -> None:
        """Keep `prefix` (full forward) in the KV cache so each later run only decodes its suffix."""
        if prefix == self._prefix:
            return
        llama_cpp.llama_memory_clear(self._memory, True)
        self._prefix = []
        if prefix:
            self._want, self._stop_at = set(), None
            code = self._decode(prefix, 0, want_logits=True)
            if code != 0:
                raise EngineError(f"llama_decode returned {code} on the shared prefix")
            self._prefix = list(prefix)

    def run(self, tokens: list[int], layers: list[int], *, stop_early: bool, want_logits: bool = False
            ) -> tuple[np.ndarray, np.ndarray | None]:
        """Residual stream at the last token of `tokens` for `layers` -> [len(layers), n_embd] float32,
        and the last token's logits [n_vocab] when `want_logits` (full forward only).

        `tokens` must start with the current prefix. With `stop_early`, the graph stops after the
        deepest requested layer (llama_decode then returns 2, which is expected here)."""
        p = len(self._prefix)
        if tokens[:p] != self._prefix or len(tokens) <= p:
            raise ValueError("tokens do not extend the cached prefix")
        suffix = tokens[p:]
        if len(tokens) > self.n_ctx:
            raise EngineError(f"prompt is {len(tokens)} tokens; the context holds {self.n_ctx} (raise n_ctx)")
        # Stopping aborts the whole decode, so it is only safe when the suffix is one micro-batch.
        stop = stop_early and not want_logits and len(suffix) <= self.n_ubatch
        self._want, self._stop_at = set(layers), (max(layers) if stop else None)
        self._seen, self._error = set(), None
        llama_cpp.llama_memory_seq_rm(self._memory, 0, p, -1)
        code = self._decode(suffix, p, want_logits=True)
        llama_cpp.llama_memory_seq_rm(self._memory, 0, p, -1)  # drop the suffix, keep the prefix
        if self._error is not None:
            raise self._error
        if code != 0 and not (stop and code == _DECODE_ABORTED):
            raise EngineError(f"llama_decode returned {code}")
        missing = set(layers) - self._seen
        if missing:
            raise EngineError(f"no hidden state captured for layers {sorted(missing)}")
        logits = None
        if want_logits:
            ptr = llama_cpp.llama_get_logits_ith(self.ctx, -1)
            logits = np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).copy()
        return self._rows[layers].copy(), logits

    def set_control_vector(self, rows: np.ndarray | None, il_start: int = 0, il_end: int = 0) -> None:
        set_control_vector(self.ctx, rows, il_start, il_end)
        # Cached prefix KV was computed under the old vector.
        llama_cpp.llama_memory_clear(self._memory, True)
        self._prefix = []


# --- batched greedy answers -------------------------------------------------------------------------------
class BatchGenerator:
    """A third llama_context that answers up to `n_seq` prompts at once, greedy, in lockstep: each step
    decodes one new token for every unfinished answer in one batch. On a CPU a step for 16 answers costs
    about 7 single steps, so tokens come about twice as fast. The chat prefix the prompts share is
    decoded once and its KV cells are shared by all sequences."""

    def __init__(self, model_ptr: int, *, n_seq: int, n_ctx: int, n_threads: int):
        self.n_seq, self.n_ctx = n_seq, n_ctx
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = params.n_batch = n_ctx
        params.n_ubatch = min(512, n_ctx)
        params.n_seq_max = n_seq
        params.kv_unified = True  # one cell pool: the shared prefix is stored once
        params.n_threads = params.n_threads_batch = n_threads
        params.embeddings = False
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED  # as the generation context
        self.ctx = llama_cpp.llama_init_from_model(model_ptr, params)
        if not self.ctx:
            raise EngineError("llama.cpp could not create a batch context (out of memory? lower the batch size)")
        self._memory = llama_cpp.llama_get_memory(self.ctx)
        self._batch = llama_cpp.llama_batch_init(n_ctx, 0, 1)
        self._vocab = llama_cpp.llama_model_get_vocab(model_ptr)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self._vocab)

    def close(self) -> None:
        if self.ctx:
            llama_cpp.llama_batch_free(self._batch)
            llama_cpp.llama_free(self.ctx)
            self.ctx = None

    def set_control_vector(self, rows: np.ndarray | None, il_start: int = 0, il_end: int = 0) -> None:
        set_control_vector(self.ctx, rows, il_start, il_end)

    def _decode(self, entries: list[tuple[int, int, int, bool]]) -> None:
        """entries: (token, position, sequence, wants logits)."""
        batch = self._batch
        for i, (tok, pos, seq, out) in enumerate(entries):
            batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = tok, pos, 1, out
            batch.seq_id[i][0] = seq
        batch.n_tokens = len(entries)
        code = llama_cpp.llama_decode(self.ctx, batch)
        if code != 0:
            raise EngineError(f"llama_decode returned {code} in the batch context"
                              + (" (no room left: lower --max-tokens or the batch size)" if code == 1 else ""))

    def greedy(self, token_lists: list[list[int]], prefix_len: int, max_tokens: int, *,
               on_done=lambda i, tokens: None, should_stop=lambda: False) -> list[list[int] | None]:
        """Greedy answer tokens (end-of-generation token excluded) for each prompt; `on_done(i, tokens)`
        as each one ends. The first `prefix_len` tokens must be the same in every prompt. When
        `should_stop()` turns true the unfinished answers are dropped (None)."""
        if len(token_lists) > self.n_seq:
            raise ValueError("more prompts than sequences")
        llama_cpp.llama_memory_clear(self._memory, True)
        if prefix_len:
            self._decode([(tok, pos, 0, False) for pos, tok in enumerate(token_lists[0][:prefix_len])])
            for seq in range(1, len(token_lists)):
                llama_cpp.llama_memory_seq_cp(self._memory, 0, seq, -1, -1)
        entries, row = [], {}
        for seq, tokens in enumerate(token_lists):
            for pos in range(prefix_len, len(tokens)):
                entries.append((tokens[pos], pos, seq, pos == len(tokens) - 1))
            row[seq] = len(entries) - 1
        self._decode(entries)

        answers: list[list[int] | None] = [[] for _ in token_lists]
        while row:
            step = []
            for seq, i in row.items():
                logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self.ctx, i), shape=(self.n_vocab,))
                tok = int(logits.argmax())
                ended = llama_cpp.llama_vocab_is_eog(self._vocab, tok)
                if not ended:
                    answers[seq].append(tok)
                if ended or len(answers[seq]) >= max_tokens:
                    llama_cpp.llama_memory_seq_rm(self._memory, seq, -1, -1)  # free its cells
                    on_done(seq, answers[seq])
                else:
                    step.append((tok, len(token_lists[seq]) + len(answers[seq]) - 1, seq, True))
            if not step:
                break
            if should_stop():
                for _, _, seq, _ in step:
                    answers[seq] = None
                break
            self._decode(step)
            row = {seq: i for i, (_, _, seq, _) in enumerate(step)}
        return answers
