"""`rass-lite capture`: residual-stream vectors of prompts -> .npz."""

from __future__ import annotations

import json

import numpy as np

from ..errors import InputError
from ..records import atomic_open, read_prompts
from .common import add_model_options, err, load_engine, parse_range, progress_bar


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
    engine = load_engine(args)
    span = parse_range(args.layers)
    layers = engine.check_layers(range(span[0], span[1] + 1) if span else None)
    with progress_bar("capture") as progress:
        hidden = engine.capture([r["prompt"] for r in records], layers, system=args.system, progress=progress)
    meta = {"model": engine.name, "model_sha256": engine.sha256, "n_embd": engine.n_embd,
            "n_layers": engine.n_layers, "position": "last prompt token", "tensor": "l_out",
            "chat_template": bool(engine.template), "langs": [r["lang"] for r in records]}
    with atomic_open(args.out, "wb") as f:
        np.savez(f, hidden=hidden, layers=np.array(layers, np.int32),
                 ids=np.array([r["id"] for r in records]), metadata=np.array(json.dumps(meta)))
    err.print(f"captured {hidden.shape[0]} prompts x {hidden.shape[1]} layers x {hidden.shape[2]} -> {args.out}")
    return 0
