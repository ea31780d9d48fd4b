"""`rass-lite cvec export|info`: llama.cpp control-vector files."""

from __future__ import annotations

import numpy as np
from rich.table import Table

from ..vectors import ControlVector
from ..errors import InputError
from ..probe import Probe
from .common import err, out, parse_range


def register(sub) -> None:
    parser = sub.add_parser("cvec", help="export and inspect llama.cpp control-vector files")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("export", help="write a probe's directions as a --control-vector file")
    p.add_argument("--probe", required=True, metavar="DIR")
    p.add_argument("--layers", metavar="A-B", help="blocks to include (default: the chosen layer ±2)")
    p.add_argument("--scale", type=float, default=1.0, help="multiplier baked into the file (negative reduces refusal)")
    p.add_argument("--out", required=True, metavar="FILE.gguf")
    p.set_defaults(run=run_export)
    p = verbs.add_parser("info", help="layers, norms and n_embd of any control-vector GGUF")
    p.add_argument("file")
    p.set_defaults(run=run_info)


def run_export(args) -> int:
    probe = Probe.load(args.probe)
    layers = parse_range(args.layers) or probe.steering_blocks
    vector = probe.vectors.scaled(args.scale, layers)
    if not vector.directions:
        raise InputError(f"--layers {args.layers} selects no block of the probe (blocks 1..{max(probe.vectors.directions)})")
    vector.save(args.out)
    err.print(f"wrote blocks {min(vector.directions)}-{max(vector.directions)} x{args.scale} -> {args.out}")
    err.print(f"llama.cpp: llama-cli -m MODEL --control-vector {args.out}")
    return 0


def run_info(args) -> int:
    vector = ControlVector.load(args.file)
    out.print(f"model_hint {vector.model_hint or '?'}  n_embd {vector.n_embd}  blocks {len(vector.directions)}")
    table = Table("block", "norm", box=None)
    for block in sorted(vector.directions):
        table.add_row(str(block), f"{float(np.linalg.norm(vector.directions[block])):.4f}")
    out.print(table)
    return 0
