"""`rass-lite judge`: label (prompt, response) records as comply / partial / refuse."""

from __future__ import annotations

from collections import Counter

from rich.table import Table

from ..errors import InputError
from ..records import iter_jsonl, read_text, write_jsonl
from ..refusal.detect import METHODS, detect_refusal
from .common import out, progress_bar


def register(sub) -> None:
    p = sub.add_parser("judge", help="label answers as comply / partial / refuse")
    p.add_argument("input", help="JSONL with prompt and response (or completion), optional lang")
    p.add_argument("--out", required=True, metavar="OUT.jsonl")
    p.add_argument("--method", choices=METHODS, default="rules",
                   help="rules (default), judge, auto, or probe (a head on the default model's states)")
    p.add_argument("--judge-model", metavar="M",
                   help="models.toml name (local or served) or .gguf for --method judge/auto; --method probe "
                        "uses the default model unless told")
    p.add_argument("--models", metavar="FILE", help="extra models.toml merged over the built-in registry")
    p.set_defaults(run=run)


def read_answers(path: str) -> list[dict]:
    records = []
    for line_no, r in iter_jsonl(read_text(path), path):
        if "response" not in r and "completion" in r:
            r["response"] = r["completion"]
        if not isinstance(r.get("response"), str):
            raise InputError(f"{path}:{line_no}: no 'response' (or 'completion') text; each line needs one")
        if not isinstance(r.get("prompt"), str):
            raise InputError(f"{path}:{line_no}: no 'prompt' text; each line needs one")
        r.setdefault("lang", "en")
        records.append(r)
    if not records:
        raise InputError(f"{path}: no records")
    return records


def load_judge(name: str | None, models_file: str | None, current=None, *, probe: bool = False):
    """A Judge on model `name`, or with `probe` the shipped refusal probe on it (the default model
    when `name` is None); reuses `current` (the model already loaded) when it is the same one."""
    from ..backends import load_backend
    from ..refusal.judge import Judge
    from ..refusal.state_probe import ProbeJudge, packaged_probe

    make = Judge
    if probe:
        from ..models.registry import load_registry

        name = name or load_registry(models_file).get(None).name
        head = packaged_probe(name)  # a model without one fails here, before any fetch
        make = lambda backend: ProbeJudge(backend, head)  # noqa: E731
    if current is not None and name == current.name:
        return make(current)
    with progress_bar("fetching judge model") as progress:
        return make(load_backend(name, models_file=models_file, progress=progress))


def run(args) -> int:
    records = read_answers(args.input)
    judge = load_judge(args.judge_model, args.models, probe=True) if args.method == "probe" else None
    if args.method in ("judge", "auto"):
        if args.method == "judge" and not args.judge_model:
            raise InputError("--method judge needs --judge-model (a models.toml name or a .gguf path)")
        if args.judge_model:
            judge = load_judge(args.judge_model, args.models)
    labelled = []
    with progress_bar("judge") as progress:
        for i, r in enumerate(records):
            result = detect_refusal(r["prompt"], r["response"], r["lang"], args.method, judge)
            labelled.append({**r, "refusal": result.label, "refusal_reason": result.reason})
            progress(i + 1, len(records))
    write_jsonl(args.out, labelled)
    counts = Counter((r["lang"], r["refusal"]) for r in labelled)
    table = Table("lang", "comply", "partial", "refuse", "n", box=None)
    for lang in sorted({r["lang"] for r in labelled}):
        row = [counts[lang, k] for k in ("comply", "partial", "refuse")]
        table.add_row(lang, *map(str, row), str(sum(row)))
    out.print(table)
    return 0
