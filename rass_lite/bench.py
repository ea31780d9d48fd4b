"""The bench runner: answer each prompt, label the answer, optionally score it, and append each
finished record to RUNDIR/results.jsonl at once, so a killed run resumes where it stopped.

    RUNDIR/run.json       format version, status (started|success|cancelled|error), config, versions
    RUNDIR/results.jsonl  one record per prompt, keyed by id
"""

from __future__ import annotations

import json
import os
import time
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .errors import RunError
from .progress import Progress, silent
from .probe import package_versions
from .records import dumps, write_json

if TYPE_CHECKING:
    from .refusal.rules import RefusalLabel

FORMAT_VERSION = 1
# Enough new tokens for the rules to see an opening refusal and a partial turn (README, method).
DEFAULT_MAX_TOKENS = 48
RESULTS = "results.jsonl"
RUN = "run.json"


def open_run(folder: str | Path, config: dict) -> tuple[Path, dict[str, dict]]:
    """Create RUNDIR or resume it: returns the folder and the records already finished (by id).

    A RUNDIR made with another config is refused, naming the keys that differ. A torn last line
    (from a kill mid-write) is cut off, not fatal."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise RunError(f"cannot write to run folder {folder}: {exc.strerror}; choose another --out") from None
    run_file = folder / RUN
    if run_file.exists():
        try:
            previous = json.loads(run_file.read_text(encoding="utf-8"))["config"]
        except (ValueError, KeyError):
            raise RunError(f"{run_file} is corrupt; remove {folder} or choose another --out") from None
        changed = sorted(k for k in set(previous) | set(config) if previous.get(k) != config.get(k))
        if changed:
            detail = "; ".join(f"{k}: {previous.get(k)!r} -> {config.get(k)!r}" for k in changed)
            raise RunError(f"{folder} holds a run with another config ({detail}); use another --out or the same options")
    done = read_results(folder / RESULTS)
    _write_status(folder, config, "started", len(done))
    return folder, done


def read_results(path: Path) -> dict[str, dict]:
    if not path.exists():
        return {}
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):  # torn last line: keep only whole records
        with open(path, "r+b") as f:
            f.truncate(end)
        data = data[:end]
    done = {}
    for line in data.decode("utf-8").splitlines():
        if line.strip():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a damaged line is redone, not trusted
            done[record["id"]] = record
    return done


def _write_status(folder: Path, config: dict, status: str, n_done: int, n_total: int | None = None) -> None:
    run_file = folder / RUN
    started = None
    if run_file.exists():
        try:
            started = json.loads(run_file.read_text(encoding="utf-8")).get("started_at")
        except ValueError:
            pass
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    write_json(run_file, {"format_version": FORMAT_VERSION, "status": status, "started_at": started or now,
                          "updated_at": now, "n_done": n_done, "n_total": n_total, "config": config,
                          "versions": package_versions()})


def run_bench(engine, records: list[dict], folder: str | Path, config: dict, *,
              label: Callable[[str, str, str], "RefusalLabel"],
              max_tokens: int, probe=None, steering=None, progress: Progress | None = None,
              should_stop: Callable[[], bool] = lambda: False) -> tuple[Path, str]:
    """Answer, label and (with `probe`) score every record not yet in RUNDIR. Returns (folder, status).

    `label(prompt, response, lang)` gives a RefusalLabel; `steering` is a context manager from
    `engine.steering(...)` or None."""
    from .scoring import score_records

    progress = progress or silent
    folder, done = open_run(folder, config)
    pending = [r for r in records if r["id"] not in done]
    total = len(records)
    progress(len(records) - len(pending), total, "resuming" if done else "")
    status = "started"
    try:
        scores = {}
        if probe is not None and pending:
            # Scores come from the unsteered model (the boundary is the model's own).
            scores = {s["id"]: s for s in score_records(engine, probe, pending)}
        with open(folder / RESULTS, "a", encoding="utf-8") as out, (steering or nullcontext()):
            for i, record in enumerate(pending):
                if should_stop():
                    status = "cancelled"
                    break
                t = time.perf_counter()
                response = engine.generate(record["prompt"], max_tokens=max_tokens)
                verdict = label(record["prompt"], response, record["lang"])
                result = {**record, "response": response, "refusal": verdict.label, "refusal_reason": verdict.reason,
                          "seconds": round(time.perf_counter() - t, 3)}
                if record["id"] in scores:
                    s = scores[record["id"]]
                    result.update(score=s["score"], p_refuse=s["p_refuse"], zone=s["zone"])
                out.write(dumps(result) + "\n")
                out.flush()
                os.fsync(out.fileno())
                progress(total - len(pending) + i + 1, total, record["lang"])
            else:
                status = "success"
    except BaseException:
        _write_status(folder, config, "error", len(read_results(folder / RESULTS)), total)
        raise
    _write_status(folder, config, status, len(read_results(folder / RESULTS)), total)
    return folder, status
