"""`rass-lite probe`: refusal directions, layer choice and behaviour-calibrated boundary."""

from __future__ import annotations

from rich.table import Table

from ..probe import run_probe
from ..probe.sets import load_probe_sets, with_bench_train
from ..progress import Cancelled
from .common import add_model_options, err, load_local_model, out, parse_range, progress_bar


def register(sub) -> None:
    p = sub.add_parser("probe", help="find the refusal direction and boundary of a model")
    add_model_options(p)
    p.add_argument("--harmful", metavar="F.jsonl", help="harmful probe prompts (default: packaged set)")
    p.add_argument("--harmless", metavar="F.jsonl", help="harmless probe prompts (default: packaged set)")
    p.add_argument("--langs", metavar="L,L",
                   help="languages of the probe prompts; the layer is chosen by the worst one "
                        "(default: all eight packaged ones, or every language of --harmful/--harmless)")
    p.add_argument("--layers", metavar="A-B", help="choose the layer only within A..B")
    p.add_argument("--layer", type=int, metavar="L", help="use layer L (overrides the choice)")
    p.add_argument("--no-behaviour", action="store_true", help="skip generation; boundary from class means")
    p.add_argument("--with-bench-train", action="store_true",
                   help="also fit on MORBench-lite's train-split items (harmful, benign controls) in the same "
                        "languages; its test split stays held out")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="probe folder; running again with another --layer/--layers reuses its captures and answers")
    p.set_defaults(run=run)


def run(args) -> int:
    langs = [code.strip() for code in args.langs.split(",") if code.strip()] if args.langs else None
    harmful, harmless = load_probe_sets(args.harmful, args.harmless, langs)
    if args.with_bench_train:
        harmful, harmless = with_bench_train(harmful, harmless)
    span = parse_range(args.layers)
    model = load_local_model(args, "probe")
    try:
        with progress_bar("probe") as progress:
            result = run_probe(model, harmful, harmless, args.out, layer=args.layer, layers=span,
                               behaviour=not args.no_behaviour, progress=progress)
    except (Cancelled, KeyboardInterrupt):
        err.print(f"cancelled; captures and answers so far are kept in {args.out}: run the same command to resume")
        return 130
    folder = args.out
    chosen, boundary = result.chosen, result.boundary
    many = chosen.per_language is not None
    langs = list(chosen.per_language) if many else []
    table = Table("layer", "worst AUROC" if many else "val AUROC", *langs, "Cohen's d", "behaviour AUROC", box=None)
    for s in result.scores:
        if s.eligible or s.layer == chosen.layer:
            mark = " ←" if s.layer == chosen.layer else ""
            b = "" if s.behaviour_auroc is None else f"{s.behaviour_auroc:.3f}"
            per = [f"{s.per_language[lang]:.3f}" for lang in langs] if many else []
            table.add_row(f"{s.layer}{mark}", f"{s.auroc:.3f}", *per, f"{s.cohens_d:.2f}", b)
    out.print(table)
    if boundary.method == "midpoint":
        why = "--no-behaviour" if args.no_behaviour else "too few refusals or compliances to fit P(refuse)"
        err.print(f"boundary: midpoint between class means ({why})")
    if result.behaviour_val:
        for within, v in result.behaviour_val.items():
            cells = "  ".join(f"{k} {v[k]:.3f}" for k in ("projection", "first_token", "behaviour") if v[k] is not None)
            out.print(f"own refusals, val split, {within} ({v['refused']}/{v['n']} refused): AUROC {cells}")
    out.print(f"layer {chosen.layer}  AUROC {chosen.auroc:.3f}{' (worst language)' if many else ''}  boundary {boundary.method} "
              f"threshold {boundary.threshold:.3f}  -> {folder}")
    return 0
