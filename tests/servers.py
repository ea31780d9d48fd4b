"""Servers on 127.0.0.1 for the served-model tests: llama-cpp-python's real OpenAI-compatible server,
and a scripted one that answers each request as told (500s, bad JSON, a cut-off body, a stall)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """`python -m llama_cpp.server` serving one GGUF as `alias`, started and stopped by the test."""

    def __init__(self, model: Path, alias: str, port: int | None = None, api_key: str | None = None):
        self.model, self.alias, self.port, self.api_key = model, alias, port or free_port(), api_key
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 120) -> "LlamaServer":
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--model_alias", self.alias,
               "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "2048", "--seed", "0",
               "--verbose", "False"]
        if self.api_key:
            cmd += ["--api_key", self.api_key]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                httpx.get(f"{self.url}/models", timeout=2, headers=self._auth())
                return self
            except httpx.HTTPError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("llama_cpp.server did not start in time")

    def _auth(self) -> dict:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.proc = None


def completion(text: str) -> dict:
    return {"id": "x", "object": "chat.completion", "model": "scripted",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}]}


class ScriptedServer:
    """Answers POST /v1/chat/completions by popping the next action off `script` (the last one
    repeats): an int is that HTTP status with an error body, "ok" a valid completion, "garbage" a
    non-JSON 200, "cut" a 200 whose body stops short of its Content-Length, "stall" no answer for
    5 s. GET /v1/models lists `models`."""

    def __init__(self, script: list, models: tuple[str, ...] = ("scripted",)):
        self.script, self.models, self.requests = list(script), models, 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: bytes, length: int | None = None):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(length if length is not None else len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._send(200, json.dumps({"object": "list", "data": [{"id": m} for m in server.models]}).encode())

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                request = json.loads(self.rfile.read(length) or b"{}")
                server.requests += 1
                action = server.script.pop(0) if len(server.script) > 1 else server.script[0]
                if isinstance(action, int):
                    self._send(action, b'{"error": {"message": "scripted failure"}}')
                elif action == "garbage":
                    self._send(200, b"<html>not json</html>")
                elif action == "cut":
                    body = json.dumps(completion("this reply is cut")).encode()
                    self._send(200, body[:20], length=len(body))
                    self.close_connection = True
                elif action == "stall":
                    time.sleep(5)
                    self._send(200, json.dumps(completion("late")).encode())
                else:
                    self._send(200, json.dumps(completion(f"answer to: {request['messages'][-1]['content']}")).encode())

        class Quiet(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that gave up (the stall case) is expected

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "ScriptedServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
