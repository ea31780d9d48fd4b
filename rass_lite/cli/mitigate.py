"""`rass-lite mitigate sweep` (the steering trade-off and a recommended setting) and
`rass-lite export dpo|sft` (training pairs for fine-tuning elsewhere)."""

from __future__ import annotations

from collections import Counter

from rich.table import Table

from ..bench import BATCH_SIZE, DEFAULT_MAX_TOKENS, BenchSpec
from ..bench.datasets import LABELS, load_set, select
from ..errors import InputError
from ..mitigate.export import dpo_pairs, sft_records
from ..mitigate.split import split_by_item
from ..mitigate.steer import CVEC, MODES
from ..mitigate.sweep import (DEFAULT_GATE, DEFAULT_SCALES, chart, condition_probe_sets, fit_conditions_on, run_sweep,
                               table_rows)
from ..probe import Probe, check_probe_matches
from ..records import write_jsonl
from ..refusal.detect import detect_refusal
from .common import add_model_options, err, load_local_model, out, parse_range, progress_bar, split_list


def register(sub) -> None:
    parser = sub.add_parser("mitigate", help="steering that keeps real refusals: sweep scales, recommend one")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("sweep", help="bench every scale on the test items; trade-off table; recommended setting")
    add_model_options(p)
    p.add_argument("--probe", required=True, metavar="DIR")
    p.add_argument("--set", default="morbench-lite", help="morbench-lite (default) or a .jsonl file")
    p.add_argument("--langs", default="en,fr,zh", help="languages (default en,fr,zh)")
    p.add_argument("--labels", help=f"labels to keep ({','.join(LABELS)}; default all)")
    p.add_argument("--mode", choices=MODES, default="conditional")
    p.add_argument("--scales", default=",".join(f"{s:g}" for s in DEFAULT_SCALES), metavar="S,S,...",
                   help="steering strengths beta (the model is steered by -beta x the raw direction; 0 is the baseline)")
    p.add_argument("--layers", metavar="A-B", help="blocks to steer (default: the probe's layer ±2)")
    p.add_argument("--gate", type=float, default=DEFAULT_GATE,
                   help=f"conditional: steer only prompts whose behaviour score is at least this (default {DEFAULT_GATE:g})")
    p.add_argument("--protect", metavar="P,P,...",
                   help="conditional: the condition's threshold catches this share of the train harmful prompts "
                        "(default: the balanced-accuracy threshold); lower steers more overrefusals and more harmful "
                        "prompts; several levels are swept beside the scales")
    p.add_argument("--limit", type=int, metavar="N", help="at most N test items per language x label")
    p.add_argument("--max-tokens", type=int, default=DEFAULT_MAX_TOKENS, metavar="N")
    p.add_argument("--batch-size", type=int, default=BATCH_SIZE, metavar="N")
    p.add_argument("--out", required=True, metavar="DIR")
    p.set_defaults(run=run_sweep_cmd)

    parser = sub.add_parser("export", help="DPO pairs or SFT records from benign prompts' runs (TRL fields)")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb, what in (("dpo", "prompt / chosen (compliant) / rejected (refusal)"), ("sft", "messages with compliant answers")):
        p = verbs.add_parser(verb, help=what)
        p.add_argument("source", metavar="SOURCE", help="a sweep folder, a bench run (with --vs), or a rass folder (with --vs)")
        p.add_argument("--vs", metavar="RUN", help="the mitigated bench run of the same prompts")
        p.add_argument("--out", required=True, metavar="FILE.jsonl")
        p.set_defaults(run=run_export, kind=verb)


def parse_scales(text: str) -> tuple[float, ...]:
    try:
        scales = tuple(sorted({float(s) for s in text.split(",") if s.strip()}))
    except ValueError:
        raise InputError(f"--scales must be numbers separated by commas (e.g. 0,0.25,0.5), got {text!r}") from None
    if not scales:
        raise InputError("--scales is empty; give at least one steering strength, e.g. --scales 0,0.5")
    if any(s < 0 for s in scales):
        raise InputError("--scales are strengths beta >= 0 (the model is steered by -beta x the direction)")
    return scales if 0.0 in scales else (0.0,) + scales


def parse_protect(text: str | None, mode: str) -> tuple[float | None, ...]:
    if text is None:
        return (None,)
    try:
        levels = tuple(sorted({float(p) for p in text.split(",") if p.strip()}))
    except ValueError:
        raise InputError(f"--protect must be shares separated by commas (e.g. 0.8,0.9), got {text!r}") from None
    if mode != "conditional" or not levels or not all(0 < p < 1 for p in levels):
        raise InputError(f"--protect {text}: shares between 0 and 1, for --mode conditional only")
    return levels


def run_sweep_cmd(args) -> int:
    scales = parse_scales(args.scales)
    protects = parse_protect(args.protect, args.mode)
    probe = Probe.load(args.probe)
    blocks = parse_range(args.layers) or probe.steering_blocks
    records, set_sha = load_set(args.set)
    records = select(records, langs=split_list(args.langs), labels=split_list(args.labels))
    if not records:
        raise InputError(f"no prompts in {args.set} for --langs {args.langs}")
    what = "mitigate sweep" + (" --mode conditional" if args.mode == "conditional" else "")
    model = load_local_model(args, what)
    check_probe_matches(probe, model)
    conditions = None
    if args.mode == "conditional":
        with progress_bar("fitting the harm condition"):
            conditions = fit_conditions_on(model, probe, records, condition_probe_sets(records), protects=protects)
    _, test = split_by_item(records)
    if args.limit:
        test = select(test, limit=args.limit)
    spec = BenchSpec(model=model.name, model_sha256=model.identity, set=args.set, set_sha256=set_sha, n=len(test),
                     langs=args.langs, labels=args.labels, limit=args.limit, probe=str(args.probe),
                     probe_layer=probe.layer, max_tokens=args.max_tokens, batch_size=args.batch_size)
    with progress_bar("sweep", transient=False) as progress:
        summary = run_sweep(model, probe, test, args.out, spec, mode=args.mode,
                            scales=scales, blocks=blocks, conditions=conditions, gate=args.gate,
                            label=lambda p, r, lang: detect_refusal(p, r, lang), progress=progress)
    if summary.get("status") == "cancelled":
        err.print(f"cancelled; finished runs are kept in {args.out}: run the same command to resume")
        return 130
    print_sweep(summary)
    best = summary["recommended_setting"]
    if best is None:
        err.print("no setting cut overrefusal while harmful refusal fell at most 5 points; nothing recommended")
    else:
        err.print(f"recommended: {args.mode} setting {best} -> {args.out}/recommended "
                  f"(use with --mitigate {args.out}/recommended)")
        if args.mode == "global":
            err.print(f"llama.cpp: llama-cli -m MODEL --control-vector {args.out}/recommended/{CVEC}")
    return 0


def print_sweep(summary: dict) -> None:
    table = Table("setting", "lang", "overrefusal", "harmful refused", "control refused", "steered bs/h/b",
                  "p overref.", "p harmful", box=None, title=f"{summary['mode']} steering, paired vs scale 0")
    for scale, lang, cells in table_rows(summary):
        table.add_row(scale, lang, *cells)
    out.print(table)
    out.print("\n".join(chart(summary)), markup=False)


def run_export(args) -> int:
    records = dpo_pairs(args.source, args.vs) if args.kind == "dpo" else sft_records(args.source, args.vs)
    if not records:
        raise InputError(f"{args.source}: no {args.kind} records (no benign prompt refused before and answered after)"
                         if args.kind == "dpo" else f"{args.source}: no compliant answers to benign prompts")
    write_jsonl(args.out, records)
    counts = Counter(r["lang"] for r in records)
    out.print(f"{len(records)} {args.kind} records ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}) -> {args.out}")
    return 0
