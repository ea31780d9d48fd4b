"""The bench runner: answer each prompt, label the answer, optionally score it, and record each
finished record at once through the run recorder (`rass_lite.runs`), so a killed run resumes where
it stopped.

    RUNDIR/run.json       step "bench", status, the BenchSpec, counts, versions
    RUNDIR/results.jsonl  one record per prompt, keyed by id
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..backends.base import TextBackend, never, require_activations
from ..progress import Cancelled, Progress, silent
from ..runs import Recorder

if TYPE_CHECKING:
    from ..mitigate.steer import Mitigation
    from ..probe import Probe
    from ..refusal.rules import RefusalLabel

STEP = "bench"
# Enough new tokens for the rules to see an opening refusal and a partial turn (README, method).
DEFAULT_MAX_TOKENS = 48
# Answers decoded together: on 2 CPU cores 16 answer ×2.1 faster than one at a time, 8 ×1.9, 32 ×1.9
# (benchmarks/generate.py, README method).
BATCH_SIZE = 16


@dataclass(frozen=True)
class BenchSpec:
    """Everything that decides a bench run's answers; a folder made with another spec is refused."""

    model: str
    model_sha256: str  # the backend's identity: a GGUF's sha256, or endpoint#model for a served one
    set: str
    set_sha256: str
    n: int
    quick: bool = False
    langs: str | None = None
    labels: str | None = None
    limit: int | None = None
    probe: str | None = None
    probe_layer: int | None = None
    cvec: str | None = None
    cvec_sha256: str | None = None
    scale: float | None = None
    layers: str | None = None
    max_tokens: int = DEFAULT_MAX_TOKENS
    method: str = "rules"
    judge_model: str | None = None
    decoding: str = "greedy"
    batch_size: int = BATCH_SIZE
    mitigation: dict | None = None  # mitigation.json of --mitigate (mode, scale, blocks, condition)


def run_bench(backend: TextBackend, records: list[dict], folder: str | Path, spec: BenchSpec, *,
              label: Callable[[str, str, str], "RefusalLabel"], probe: "Probe | None" = None, steering=None,
              mitigation: "Mitigation | None" = None, progress: Progress | None = None,
              should_stop: Callable[[], bool] = never,
              on_record: Callable[[dict], None] | None = None,
              baseline: dict[str, str] | None = None, scores: dict[str, dict] | None = None,
              signals: dict[str, dict] | None = None) -> tuple[Path, str]:
    """Answer, label and (with `probe`) score every record not yet in RUNDIR. Returns (folder, status).

    `label(prompt, response, lang)` gives a RefusalLabel; `steering` is a context manager from
    `backend.steering(...)` or None; `mitigation` (with `probe`) decides per prompt whether to steer
    and records `steered` and `steer_why`; `on_record(result)` sees each finished record. Answers come
    `spec.batch_size` at a time in fixed chunks of `records` (with a mitigation, unsteered answers
    equal the unmitigated run's: see below); a chunk cut short by a kill is redone whole (keeping what
    was written), so a resumed run gives the answers an uninterrupted one gives. `baseline` (id ->
    answer of the unmitigated run with the same spec otherwise, e.g. a sweep's scale 0) lets a
    mitigated run copy its unsteered answers instead of answering the chunk again: the same text.
    `scores` (id -> score_records' fields) and `signals` (id -> the mitigation's condition signals)
    computed once beforehand stand in for scoring the prompts again (a sweep's settings share them)."""
    from ..mitigate.steer import scored_signals

    progress = progress or silent
    batch = spec.batch_size
    with Recorder(folder, STEP, spec, total=len(records)) as run:
        done = dict(run.done)
        chunks = [records[i:i + batch] for i in range(0, len(records), batch)]
        todo = [r for chunk in chunks if any(r["id"] not in done for r in chunk) for r in chunk]
        progress(run.n_done, len(records), "resuming" if done else "")
        pending = [r for r in todo if r["id"] not in done]
        conditional = mitigation is not None and mitigation.mode == "conditional" and mitigation.scale != 0
        decisions = {}
        try:
            if conditional and signals is None and todo and probe is not None:
                fresh, signals = scored_signals(require_activations(backend, "bench --mitigate"), probe,
                                                mitigation.condition, todo, should_stop)
                scores = scores or fresh
            elif probe is not None and scores is None and pending:
                # Scores come from the unsteered model (the boundary is the model's own).
                scores, _ = scored_signals(require_activations(backend, "bench --probe"), probe, None, pending,
                                           should_stop)
            if mitigation is not None and todo:
                made = (mitigation.decide(backend, probe, [r["prompt"] for r in todo], should_stop,
                                          langs=[r["lang"] for r in todo])
                        if conditional and signals is None  # no probe here: the mitigation reads the model itself
                        else mitigation.decide_from([signals[r["id"]] if conditional else {} for r in todo]))
                decisions = {r["id"]: d for r, d in zip(todo, made)}
        except Cancelled:
            run.finish("cancelled")
            return run.folder, run.status
        scores = scores or {}

        def write(record: dict, response: str) -> None:
            if record["id"] in done:
                return  # already written before the run was cut short
            verdict = label(record["prompt"], response, record["lang"])
            result = {**record, "response": response, "refusal": verdict.label, "refusal_reason": verdict.reason}
            if record["id"] in scores:
                s = scores[record["id"]]
                result.update({k: s[k] for k in ("score", "p_refuse", "projection", "p_first_token", "score_from", "zone")})
            if record["id"] in decisions:
                d = decisions[record["id"]]
                result.update(steered=d["steered"], steer_why=d["why"],
                              **({"harm_score": d["harm"]} if "harm" in d else {}))
            run.append(result)
            progress(run.n_done, len(records), record["lang"])
            if on_record is not None:
                on_record(result)

        def answer(group: list[dict], context, keep=lambda r: True) -> bool:
            with context:
                texts = backend.generate_batch([r["prompt"] for r in group], max_tokens=spec.max_tokens,
                                               batch_size=batch, should_stop=should_stop,
                                               on_answer=lambda i, t: write(group[i], t) if keep(group[i]) else None)
            return None not in texts

        finished = True
        if mitigation is None:
            finished = answer(todo, steering or nullcontext())
        else:
            # The whole chunk is answered unsteered first, as the unmitigated run answers it (an answer
            # depends on its batch), so an unsteered prompt's answer equals the baseline's exactly; the
            # steered ones are then answered again, together, under steering.
            for start in range(0, len(todo), batch):
                chunk = todo[start:start + batch]
                steered = [r for r in chunk if decisions[r["id"]]["steered"]]
                plain = [r for r in chunk if not decisions[r["id"]]["steered"]]
                if not plain:  # every prompt of the chunk is steered (global mode): no unsteered pass
                    finished = not should_stop()
                elif baseline is not None and all(r["id"] in baseline for r in plain):
                    for r in plain:
                        write(r, baseline[r["id"]])
                    finished = not should_stop()
                else:
                    finished = answer(chunk, nullcontext(), keep=lambda r: not decisions[r["id"]]["steered"])
                finished = finished and (not steered or answer(steered, mitigation.steering(backend, probe)))
                if not finished:
                    break
        run.finish("success" if finished else "cancelled")
        return run.folder, run.status
