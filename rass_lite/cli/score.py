"""`rass-lite score`: distance of each prompt to the model's refusal boundary."""

from __future__ import annotations

from collections import Counter

from rich.table import Table

from ..probe import ZONES, Probe, check_probe_matches
from ..records import read_prompts, write_jsonl
from ..errors import InputError
from ..score import Lookahead, score_capture_file, score_records
from ..score.lookahead import LOOKAHEAD_TOKENS
from .common import add_model_options, load_local_model, out, progress_bar
from .judge import load_judge


def register(sub) -> None:
    p = sub.add_parser("score", help="boundary score, p_refuse and zone for each prompt")
    add_model_options(p)
    p.add_argument("input", help=".txt, .jsonl (field prompt), - for stdin, or an .npz from `capture`")
    p.add_argument("--probe", required=True, metavar="DIR", help="a folder written by `rass-lite probe`")
    p.add_argument("--band", type=float, default=1.0, help="|score| <= band is the boundary zone (default 1)")
    p.add_argument("--fast", action="store_true",
                   help="projection only: a pass that stops at the probe layer (the cheap screen), no first-token P(refuse)")
    p.add_argument("--lookahead", action="store_true",
                   help="score by the model's own opening, read by the refusal probe on the default model: the best "
                        "predictor of refusals, ~1.6 s a prompt on 2 cores")
    p.add_argument("--lookahead-tokens", type=int, default=LOOKAHEAD_TOKENS, metavar="N",
                   help=f"length of that opening (default {LOOKAHEAD_TOKENS})")
    p.add_argument("--force", action="store_true", help="use a probe made for another model file")
    p.add_argument("--out", required=True, metavar="FILE.jsonl")
    p.set_defaults(run=run)


def run(args) -> int:
    probe = Probe.load(args.probe)
    if args.input.endswith(".npz"):
        if args.lookahead:
            raise InputError(f"{args.input}: a capture file holds no model to answer with; --lookahead needs "
                             "the prompts (.txt or .jsonl)")
        scored = score_capture_file(probe, args.input, band=args.band, force=args.force)
    else:
        records = read_prompts(args.input)
        model = load_local_model(args, "score")
        check_probe_matches(probe, model, args.force)
        lookahead = None
        if args.lookahead:
            if args.lookahead_tokens < 1:
                raise InputError(f"--lookahead-tokens {args.lookahead_tokens}: give a number of tokens of at least 1 "
                                 f"(default {LOOKAHEAD_TOKENS})")
            reader = load_judge(None, args.models, model, probe=True)
            lookahead = Lookahead(reader.backend, reader.probe, args.lookahead_tokens)
        with progress_bar("score") as progress:
            scored = score_records(model, probe, records, band=args.band, fast=args.fast, lookahead=lookahead,
                                   progress=progress)
    write_jsonl(args.out, scored)
    print_zone_table(scored)
    return 0


def print_zone_table(records: list[dict]) -> None:
    langs = sorted({r["lang"] for r in records})
    table = Table("lang", *ZONES, "n", box=None)
    for lang in langs + (["all"] if len(langs) > 1 else []):
        rows = [r for r in records if lang in ("all", r["lang"])]
        counts = Counter(r["zone"] for r in rows)
        table.add_row(lang, *(str(counts[z]) for z in ZONES), str(len(rows)))
    out.print(table)
