"""`rass-lite capture`: residual-stream vectors of prompts -> .npz."""

from __future__ import annotations

from ..errors import InputError
from ..records import read_prompts
from ..score import save_capture
from .common import add_model_options, err, load_local_model, parse_range, progress_bar


def register(sub) -> None:
    p = sub.add_parser("capture", help="capture l_out at the last prompt token per layer into an .npz")
    add_model_options(p)
    p.add_argument("input", help=".txt (one prompt a line), .jsonl (field prompt, optional id) or - for stdin")
    p.add_argument("--layers", metavar="A-B", help="layers to keep (default: all)")
    p.add_argument("--system", metavar="S", help="system prompt")
    p.add_argument("--out", required=True, metavar="FILE.npz")
    p.set_defaults(run=run)


def run(args) -> int:
    if not args.out.endswith(".npz"):
        raise InputError(f"--out must end in .npz, got {args.out!r}")
    records = read_prompts(args.input)
    span = parse_range(args.layers)
    model = load_local_model(args, "capture")
    layers = model.check_layers(range(span[0], span[1] + 1) if span else None)
    with progress_bar("capture") as progress:
        hidden = model.capture([r["prompt"] for r in records], layers, system=args.system, progress=progress)
    save_capture(args.out, hidden, layers, records, model)
    err.print(f"captured {hidden.shape[0]} prompts x {hidden.shape[1]} layers x {hidden.shape[2]} -> {args.out}")
    return 0
