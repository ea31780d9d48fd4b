"""`rass-lite judge`: label (prompt, response) records as comply / partial / refuse."""

from __future__ import annotations

from collections import Counter

from rich.table import Table

from ..errors import InputError
from ..records import iter_jsonl, read_text, write_jsonl
from ..refusal.detect import METHODS, detect_refusal, make_judge
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


def load_judge(name: str | None, models_file: str | None, current=None, *, probe: bool = False,
               steered: bool = False):
    """`make_judge` loading with a progress bar (None when neither `name` nor `probe`)."""
    from ..backends import load_backend

    def load(model_name: str):
        with progress_bar("fetching judge model") as progress:
            return load_backend(model_name, models_file=models_file, progress=progress)

    return make_judge(name, models_file, current, load, probe=probe, steered=steered)


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
