"""Recorded runs: every long step (probe, bench, and the steps that build on them) writes through
one `Recorder`, so each one resumes, refuses a folder made with other options, and can be listed.

    RUNDIR/run.json       format version, step, status (started|success|cancelled|error), the step's
                          spec, counts, elapsed seconds, package versions
    RUNDIR/results.jsonl  one record per finished item, keyed by `id`, appended and fsynced at once

A step is described by a small frozen spec (a dataclass: model identity, input sha256s, options);
the CLI and the TUI build the same specs, and `spec_hash` names the default folder
HOME/runs/<model>/<step>/<hash>. Reading a run (`read_run`, `read_results`, `list_runs`) never
changes it; only a Recorder opened to write cuts a torn last line.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from .errors import RunError
from .paths import runs_dir
from .progress import Cancelled
from .records import dumps, write_json

FORMAT_VERSION = 2
RESULTS = "results.jsonl"
RUN = "run.json"
STATUSES = ("started", "success", "cancelled", "error")


def spec_config(spec: Any) -> dict:
    """A spec dataclass (or a plain dict) as the JSON object run.json stores (tuples become lists,
    so a spec compares equal to what was read back)."""
    data = dataclasses.asdict(spec) if dataclasses.is_dataclass(spec) else dict(spec)
    return json.loads(json.dumps(data, ensure_ascii=False, default=str))


def spec_hash(spec: Any) -> str:
    text = json.dumps(spec_config(spec), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def default_folder(step: str, model: str, spec: Any) -> Path:
    return runs_dir() / _safe(model) / step / spec_hash(spec)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "model"


def package_versions() -> dict:
    versions = {"python": platform.python_version()}
    for package in ("rass-lite", "llama-cpp-python", "numpy", "gguf"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


@dataclass(frozen=True)
class RunInfo:
    folder: Path
    step: str
    status: str
    n_done: int
    n_total: int | None
    config: dict
    started_at: str
    updated_at: str
    elapsed_s: float

    @property
    def model(self) -> str:
        return str(self.config.get("model", ""))


def read_run(folder: str | Path) -> RunInfo:
    """run.json of a run folder, read only."""
    folder = Path(folder)
    try:
        data = json.loads((folder / RUN).read_text(encoding="utf-8"))
        return RunInfo(folder, data.get("step", "bench"), data["status"], int(data.get("n_done", 0)),
                       data.get("n_total"), data["config"], data.get("started_at", ""),
                       data.get("updated_at", ""), float(data.get("elapsed_s", 0.0)))
    except FileNotFoundError:
        raise RunError(f"{folder} is not a run folder (no {RUN}); give a folder that a run wrote") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise RunError(f"{folder / RUN} is corrupt ({type(exc).__name__}: {exc}); remove {folder} or choose another --out") from None


def list_runs(home: str | Path | None = None) -> list[RunInfo]:
    """Every readable run under `home` (default HOME/runs), newest first."""
    home = Path(home) if home is not None else runs_dir()
    runs = []
    for run_file in home.rglob(RUN) if home.is_dir() else []:
        try:
            runs.append(read_run(run_file.parent))
        except RunError:
            continue
    return sorted(runs, key=lambda r: r.updated_at, reverse=True)


def read_results(folder: str | Path) -> dict[str, dict]:
    """Finished records by id. A torn last line (a kill mid-write) and damaged lines are skipped,
    not repaired: reading never changes the run."""
    path = Path(folder) / RESULTS
    if not path.exists():
        return {}
    data = path.read_bytes()
    data = data[:data.rfind(b"\n") + 1]
    done = {}
    for line in data.decode("utf-8", errors="replace").splitlines():
        if line.strip():
            try:
                record = json.loads(line)
                done[record["id"]] = record
            except (json.JSONDecodeError, KeyError, TypeError):
                continue  # redone, not trusted
    return done


def _lock_folder(folder: Path):
    """An exclusive lock on the run folder for this Recorder's life: a second process recording into
    the same folder would interleave its lines with ours."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock, as before
        return None
    handle = open(folder / ".lock", "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise RunError(f"another process is recording into {folder}; wait for it to finish, or stop it") from None
    return handle


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Recorder:
    """An open run: `done` holds the records finished earlier; `append` writes one more at once.

        with Recorder(folder, "bench", spec) as run:
            for record in todo_not_in(run.done):
                run.append(record)
            run.finish("success")          # or "cancelled"; an exception marks it "error"
    """

    def __init__(self, folder: str | Path, step: str, spec: Any, *, total: int | None = None):
        self.folder, self.step, self.config, self.total = Path(folder), step, spec_config(spec), total
        self._check_writable()
        self._lock = _lock_folder(self.folder)
        run_file = self.folder / RUN
        self._previous: dict = {}
        if run_file.exists():
            info = read_run(self.folder)
            if info.step != step:
                raise RunError(f"{self.folder} holds a {info.step} run, not {step}; use another --out")
            changed = sorted(k for k in set(info.config) | set(self.config) if info.config.get(k) != self.config.get(k))
            if changed:
                detail = "; ".join(f"{k}: {info.config.get(k)!r} -> {self.config.get(k)!r}" for k in changed[:4])
                raise RunError(f"{self.folder} holds a run with other options ({detail}); use another --out or the same options")
            self._previous = json.loads(run_file.read_text(encoding="utf-8"))
        self._started_at = self._previous.get("started_at") or _now()
        self._cut_torn_line()
        self.done = read_results(self.folder)
        self.n_done = len(self.done)
        self._started = time.perf_counter()
        self._out = None
        self.status = "started"
        self._write_status("started")

    def _check_writable(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            test = self.folder / ".write-test"
            test.write_text("")
            test.unlink()
        except OSError as exc:
            raise RunError(f"cannot write to run folder {self.folder}: {exc.strerror}; choose another --out") from None

    def _cut_torn_line(self) -> None:
        path = self.folder / RESULTS
        if path.exists():
            data = path.read_bytes()
            end = data.rfind(b"\n") + 1
            if end < len(data):
                with open(path, "r+b") as f:
                    f.truncate(end)

    def append(self, record: dict) -> None:
        if self._out is None:
            self._out = open(self.folder / RESULTS, "a", encoding="utf-8")
        self._out.write(dumps(record) + "\n")
        self._out.flush()
        os.fsync(self._out.fileno())
        self.done[record["id"]] = record
        self.n_done += 1

    def finish(self, status: str) -> None:
        self.status = status
        self._write_status(status)

    def _write_status(self, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(status)
        spent = time.perf_counter() - self._started if status != "started" else 0.0
        write_json(self.folder / RUN, {
            "format_version": FORMAT_VERSION, "step": self.step, "status": status,
            "started_at": self._started_at, "updated_at": _now(),
            "elapsed_s": round(self._previous.get("elapsed_s", 0.0) + spent, 1),
            "n_done": self.n_done, "n_total": self.total, "config": self.config, "versions": package_versions(),
        })

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
        if self._lock is not None:
            self._lock.close()  # releases the lock
            self._lock = None

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()
        if exc_type is None:
            if self.status == "started":
                self.finish("success")
        elif issubclass(exc_type, (Cancelled, KeyboardInterrupt)):
            self.finish("cancelled")
        else:
            self.finish("error")
