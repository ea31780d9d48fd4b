"""`rass-lite bench`: answer, label and score a prompt set; resumable; Ctrl-C stops at once, keeping finished answers."""

from __future__ import annotations

import signal

from ..bench import BATCH_SIZE, DEFAULT_MAX_TOKENS, BenchSpec, run_bench
from ..bench.datasets import LABELS, load_set, quick_sample, select
from ..bench.report import write_report
from ..errors import InputError
from ..probe import Probe, check_probe_matches
from ..records import sha256_file
from ..refusal.detect import default_method, detect_refusal
from ..runs import default_folder
from ..vectors import ControlVector
from .common import (add_model_options, add_steering_options, err, load_local_model, load_model, parse_range,
                     progress_bar, split_list)
from .judge import load_judge
from .report import print_headline


def register(sub) -> None:
    p = sub.add_parser("bench", help="run MORBench-lite (or your set) and report refusal rates")
    add_model_options(p)
    p.add_argument("--set", default="morbench-lite", help="morbench-lite (default) or a .jsonl/.csv/.txt file")
    p.add_argument("--label", choices=LABELS, help="label for imported files that carry none")
    p.add_argument("--lang", help="language code for imported files that carry none (default en)")
    p.add_argument("--langs", help="comma-separated language codes to keep, e.g. en,zh")
    p.add_argument("--labels", help=f"comma-separated labels to keep ({','.join(LABELS)})")
    p.add_argument("--limit", type=int, metavar="N", help="at most N prompts per language x label")
    p.add_argument("--quick", action="store_true", help="fixed sample: 10 per label in en, zh, es (~1.5 min on 2 cores)")
    p.add_argument("--probe", metavar="DIR", help="add boundary scores from this probe")
    add_steering_options(p)
    p.add_argument("--mitigate", metavar="DIR", help="a mitigation folder (from `mitigate sweep`): steer per prompt as it decides")
    p.add_argument("--max-tokens", type=int, default=DEFAULT_MAX_TOKENS, metavar="N")
    p.add_argument("--batch-size", type=int, default=BATCH_SIZE, metavar="N",
                   help=f"answers decoded together (default {BATCH_SIZE}; more helps on a GPU)")
    p.add_argument("--method", choices=("rules", "auto", "probe"),
                   help="refusal labels: rules, auto (rules, then --judge-model where rules are unsure), or "
                        "probe (a head on the default model's states: labels other models' styles better). "
                        "Default: auto on the default model, probe on any other (README, refusal labels)")
    p.add_argument("--judge-model", metavar="M", help="judge model (local or served) for --method auto")
    p.add_argument("--out", metavar="RUNDIR", help="run folder (default: HOME/runs/MODEL/bench/HASH, see README)")
    p.set_defaults(run=run)


def run(args) -> int:
    records, set_sha = load_set(args.set, label=args.label, lang=args.lang)
    if args.quick:
        records = quick_sample(records)
    records = select(records, langs=split_list(args.langs), labels=split_list(args.labels), limit=args.limit)
    vector = ControlVector.load(args.cvec) if args.cvec else None
    layers = parse_range(args.layers)
    probe = Probe.load(args.probe) if args.probe else None
    if args.max_tokens < 1 or args.batch_size < 1:
        raise InputError(f"--{'max-tokens' if args.max_tokens < 1 else 'batch-size'} must be at least 1")

    if vector is not None and args.mitigate:
        raise InputError("give --cvec or --mitigate, not both")
    needs = "bench --probe" if probe else "bench --cvec" if vector else "bench --mitigate" if args.mitigate else None
    model = load_local_model(args, needs) if needs else load_model(args)
    mitigation = None
    if args.mitigate:
        from ..mitigate.steer import load_mitigation

        mitigation = load_mitigation(args.mitigate, model)
        probe = probe or Probe.load(mitigation.probe)
    if probe is not None:
        check_probe_matches(probe, model)
    chosen_for_you = args.method is None
    if chosen_for_you:
        args.method = default_method(model, args.models, args.judge_model)
    judge = load_judge(args.judge_model, args.models, model, probe=args.method == "probe",
                       steered=bool(vector or args.mitigate))
    spec = BenchSpec(
        model=model.name, model_sha256=model.identity, set=args.set, set_sha256=set_sha, n=len(records),
        quick=args.quick, langs=args.langs, labels=args.labels, limit=args.limit,
        probe=str(args.probe) if args.probe else None, probe_layer=probe.layer if probe else None,
        cvec=str(args.cvec) if args.cvec else None, cvec_sha256=sha256_file(args.cvec) if args.cvec else None,
        scale=args.scale if args.cvec else None, layers=args.layers if args.cvec else None,
        max_tokens=args.max_tokens, method=args.method, judge_model=args.judge_model, batch_size=args.batch_size,
        mitigation=mitigation.as_dict() if mitigation else None)
    out_dir = args.out or default_folder("bench", model.name, spec)
    steering = model.steering(vector.directions, args.scale, layers) if vector else None

    stop = {"requested": False}

    def on_sigint(signum, frame):
        if stop["requested"]:
            raise KeyboardInterrupt
        stop["requested"] = True
        err.print("stopping; finished answers are kept (Ctrl-C again to abort now)")

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        with progress_bar("bench", transient=False) as progress:
            folder, status = run_bench(
                model, records, out_dir, spec, probe=probe, steering=steering, mitigation=mitigation,
                label=lambda prompt, response, lang: detect_refusal(prompt, response, lang, args.method, judge),
                progress=progress, should_stop=lambda: stop["requested"])
    finally:
        signal.signal(signal.SIGINT, previous)
    summary, _ = write_report(folder)
    print_headline(summary)
    if chosen_for_you and args.method == "probe":
        err.print("labels: the refusal probe (the rules miss other models' refusal styles; --method rules for rules only)")
    err.print(f"{status}: {summary['n']}/{len(records)} records in {folder}/results.jsonl; report: {folder}/report.md")
    if status == "cancelled":
        err.print("run the same command again to resume")
        return 130
    return 0
