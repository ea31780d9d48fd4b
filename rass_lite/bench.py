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
# Answers decoded together: on 2 CPU cores 16 answer ×2.1 faster than one at a time, 8 ×1.9, 32 ×1.9
# (benchmarks/generate.py, README method).
BATCH_SIZE = 16
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


def _write_status(folder: Path, config: dict, status: str, n_done: int, n_total: int | None = None,
                  seconds: float = 0.0) -> None:
    """run.json; `seconds` of answering are added to those of earlier (resumed) sessions."""
    run_file = folder / RUN
    previous = {}
    if run_file.exists():
        try:
            previous = json.loads(run_file.read_text(encoding="utf-8"))
        except ValueError:
            pass
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    elapsed = previous.get("elapsed_s", 0.0) + (seconds if status != "started" else 0.0)
    write_json(run_file, {"format_version": FORMAT_VERSION, "status": status,
                          "started_at": previous.get("started_at") or now, "updated_at": now,
                          "elapsed_s": round(elapsed, 1), "n_done": n_done, "n_total": n_total,
                          "config": config, "versions": package_versions()})


def run_bench(engine, records: list[dict], folder: str | Path, config: dict, *,
              label: Callable[[str, str, str], "RefusalLabel"], max_tokens: int, batch_size: int = BATCH_SIZE,
              probe=None, steering=None, progress: Progress | None = None,
              should_stop: Callable[[], bool] = lambda: False) -> tuple[Path, str]:
    """Answer, label and (with `probe`) score every record not yet in RUNDIR. Returns (folder, status).

    `label(prompt, response, lang)` gives a RefusalLabel; `steering` is a context manager from
    `engine.steering(...)` or None. Answers come `batch_size` at a time in fixed chunks of `records`;
    a chunk cut short by a kill is redone whole (keeping what was written), so a resumed run gives
    the answers an uninterrupted one gives."""
    from .scoring import score_records

    progress = progress or silent
    folder, done = open_run(folder, config)
    chunks = [records[i:i + batch_size] for i in range(0, len(records), batch_size)]
    todo = [r for chunk in chunks if any(r["id"] not in done for r in chunk) for r in chunk]
    total, n_done = len(records), len(done)
    progress(n_done, total, "resuming" if done else "")
    status, started = "started", time.perf_counter()
    try:
        scores = {}
        pending = [r for r in todo if r["id"] not in done]
        if probe is not None and pending:
            # Scores come from the unsteered model (the boundary is the model's own).
            scores = {s["id"]: s for s in score_records(engine, probe, pending)}
        with open(folder / RESULTS, "a", encoding="utf-8") as out, (steering or nullcontext()):
            def write(i: int, response: str) -> None:
                nonlocal n_done
                record = todo[i]
                if record["id"] in done:
                    return  # already written before the run was cut short
                verdict = label(record["prompt"], response, record["lang"])
                result = {**record, "response": response, "refusal": verdict.label, "refusal_reason": verdict.reason}
                if record["id"] in scores:
                    s = scores[record["id"]]
                    result.update(score=s["score"], p_refuse=s["p_refuse"], zone=s["zone"])
                out.write(dumps(result) + "\n")
                out.flush()
                os.fsync(out.fileno())
                n_done += 1
                progress(n_done, total, record["lang"])

            answers = engine.generate_batch([r["prompt"] for r in todo], max_tokens=max_tokens,
                                            batch_size=batch_size, on_answer=write, should_stop=should_stop)
            status = "cancelled" if None in answers else "success"
    except BaseException:
        _write_status(folder, config, "error", n_done, total, time.perf_counter() - started)
        raise
    _write_status(folder, config, status, n_done, total, time.perf_counter() - started)
    return folder, status
