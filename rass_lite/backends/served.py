"""A served model: any OpenAI-compatible chat-completions endpoint (llama.cpp's llama-server, vLLM,
Ollama, llama-cpp-python's server) as a `TextBackend`.

    [models."qwen-on-gpu"]
    endpoint = "http://gpu-box:8000/v1"
    api_model = "Qwen/Qwen2.5-7B-Instruct"
    api_key_env = "VLLM_API_KEY"        # the variable's name; the key never goes in the file

HTTP goes through httpx (timeouts, connection pooling, one client shared by the worker threads).
Requests in flight: `concurrency`. 429, 5xx, timeouts and dropped connections are retried with
exponential backoff; anything else, or a reply that is not a chat completion, is one `ServedError`
that names the server and what to do. Greedy answers send temperature 0 and a fixed seed, which
llama.cpp and vLLM honour.
"""

from __future__ import annotations

import json
import os
import re
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Callable, Sequence

import httpx

from ..errors import RassError
from ..models.registry import ModelEntry
from .base import OnAnswer, never

DEFAULT_CONCURRENCY = 4
RETRIES = 4  # after the first try: waits of 0.5, 1, 2, 4 s
BACKOFF_S = 0.5
TIMEOUT_S = 120.0
_RETRY_STATUS = {408, 429, 500, 502, 503, 504}


class ServedError(RassError):
    """A served model could not be reached, refused us, or answered something malformed."""


class ServedBackend:
    """Chat answers from an OpenAI-compatible server. Thread-safe: one httpx client, no other state."""

    def __init__(self, entry: ModelEntry, *, concurrency: int = DEFAULT_CONCURRENCY, seed: int = 0,
                 timeout: float = TIMEOUT_S, retries: int = RETRIES, backoff: float = BACKOFF_S,
                 transport: httpx.BaseTransport | None = None):
        if concurrency < 1:
            raise ServedError("--concurrency must be at least 1")
        self.name = entry.name
        self.entry = entry
        self.base_url = entry.endpoint.rstrip("/")
        self.api_model = entry.api_model
        self.system_prompt = entry.system_prompt
        self.concurrency, self.seed, self.retries, self.backoff = concurrency, seed, retries, backoff
        headers = {}
        if entry.api_key_env:
            key = os.environ.get(entry.api_key_env)
            if not key:
                raise ServedError(f"model {self.name!r} reads its API key from ${entry.api_key_env}, which is not set; "
                                  f"export {entry.api_key_env}=... and try again")
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.Client(base_url=self.base_url, headers=headers, transport=transport,
                                    timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
                                    limits=httpx.Limits(max_connections=concurrency + 1))

    @classmethod
    def from_entry(cls, entry: ModelEntry, *, check: bool = True, **options) -> "ServedBackend":
        backend = cls(entry, **{k: v for k, v in options.items() if v is not None})
        if check:
            backend.check_model()
        return backend

    @property
    def identity(self) -> str:
        return f"{self.base_url}#{self.api_model}"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "ServedBackend":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- requests ----------------------------------------------------------------------------------
    def check_model(self) -> None:
        """One GET /models: the server is up, the key is accepted, and it serves `api_model`."""
        data = self._request("GET", "/models")
        served = [m.get("id") for m in data.get("data", []) if isinstance(m, dict)] if isinstance(data, dict) else []
        if served and self.api_model not in served:
            raise ServedError(f"{self.base_url} does not serve model {self.api_model!r} (it serves: "
                              f"{', '.join(map(str, served[:8]))}); fix api_model of {self.name!r} in models.toml")

    def _request(self, method: str, path: str, body: dict | None = None, should_stop: Callable[[], bool] = never):
        where = f"{self.base_url}{path}"
        for attempt in range(self.retries + 1):
            problem = None
            try:
                response = self._client.request(method, path, json=body)
            except httpx.ConnectError as exc:
                problem = f"cannot connect ({_reason(exc)}); is the server running at {self.base_url}?"
            except httpx.TimeoutException:
                problem = f"no answer within {self._client.timeout.read:.0f} s"
            except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                problem = f"the connection dropped mid-reply ({_reason(exc)})"
            else:
                if response.status_code in (401, 403):
                    hint = (f"check ${self.entry.api_key_env}" if self.entry.api_key_env
                            else f"set api_key_env for {self.name!r} in models.toml to the variable holding the key")
                    raise ServedError(f"{where} refused the request ({response.status_code} "
                                      f"{'unauthorised' if response.status_code == 401 else 'forbidden'}); {hint}")
                if response.status_code == 404:
                    raise ServedError(f"{where} answered 404 ({_snippet(response.text)}); check the endpoint "
                                      f"(it usually ends in /v1) and api_model of {self.name!r}")
                if response.status_code not in _RETRY_STATUS:
                    if response.status_code >= 400:
                        raise ServedError(f"{where} answered {response.status_code}: {_snippet(response.text)}")
                    try:
                        return response.json()
                    except ValueError:
                        raise ServedError(f"{where} answered something that is not JSON ({_snippet(response.text)}); "
                                          "is this an OpenAI-compatible server?") from None
                problem = f"{response.status_code} {_snippet(response.text)}"
            if attempt == self.retries or should_stop():
                raise ServedError(f"{where}: {problem} (after {attempt + 1} tries)")
            time.sleep(self.backoff * 2 ** attempt)
        raise AssertionError("unreachable")

    def _complete(self, prompt: str, *, system: str | None, max_tokens: int, temperature: float,
                  seed: int | None, should_stop: Callable[[], bool] = never) -> str:
        if not prompt or not prompt.strip():
            raise ServedError("the prompt is empty; give a non-empty prompt")
        messages = []
        system = system if system is not None else self.system_prompt
        if system:
            messages.append({"role": "system", "content": system})
        messages.append({"role": "user", "content": prompt})
        body = {"model": self.api_model, "messages": messages, "max_tokens": max_tokens,
                "temperature": temperature, "seed": self.seed if seed is None else seed, "stream": False}
        if temperature == 0:
            # No repetition penalty, as the local backend: llama.cpp's servers default to 1.1, which
            # changes greedy answers (vLLM and others ignore the field).
            body.update(top_p=1.0, repeat_penalty=1.0)
        data = self._request("POST", "/chat/completions", body, should_stop)
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise ServedError(f"{self.base_url}/chat/completions answered JSON without choices[0].message.content "
                              f"({_snippet(json.dumps(data))}); is this an OpenAI-compatible server?") from None
        return content or ""

    # --- TextBackend -------------------------------------------------------------------------------
    def generate(self, prompt: str, *, system: str | None = None, max_tokens: int = 256,
                 temperature: float = 0.0, seed: int | None = None) -> str:
        return self._complete(prompt, system=system, max_tokens=max_tokens, temperature=temperature, seed=seed)

    def generate_batch(self, prompts: Sequence[str], *, system: str | None = None, max_tokens: int = 256,
                       batch_size: int = 0, on_answer: OnAnswer | None = None,
                       should_stop: Callable[[], bool] = never) -> list[str | None]:
        """Greedy answers, `concurrency` requests in flight (`batch_size` is the local backend's knob
        and is ignored). `on_answer(i, text)` runs in the calling thread, in finishing order. When
        `should_stop()` turns true no new request starts; those in flight are awaited and kept."""
        texts: list[str | None] = [None] * len(prompts)
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="rass-served") as pool:
            pending, queue = {}, iter(enumerate(prompts))

            def submit() -> None:
                while len(pending) < self.concurrency and not should_stop():
                    item = next(queue, None)
                    if item is None:
                        return
                    i, prompt = item
                    pending[pool.submit(self._complete, prompt, system=system, max_tokens=max_tokens,
                                        temperature=0.0, seed=None, should_stop=should_stop)] = i

            submit()
            try:
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        i = pending.pop(future)
                        texts[i] = future.result()
                        if on_answer is not None:
                            on_answer(i, texts[i])
                    submit()
            finally:
                for future in pending:
                    future.cancel()
        return texts

    def choose(self, prompt: str, choices: Sequence[str], *, system: str | None = None) -> str:
        """The choice the model names first in a short greedy answer (servers differ in how, or
        whether, they take a grammar, so the answer is read instead of constrained)."""
        text = self._complete(prompt, system=system, max_tokens=8, temperature=0.0, seed=None)
        found = [(m.start(), c) for c in choices for m in [re.search(rf"\b{re.escape(c)}\b", text, re.I)] if m]
        if not found:
            raise ServedError(f"{self.name} answered {text.strip()[:60]!r}, not one of {', '.join(choices)}")
        return min(found)[1]


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.split("] ")[-1][:120]


def _snippet(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text[:n] + ("…" if len(text) > n else "") if text else "(empty body)"
