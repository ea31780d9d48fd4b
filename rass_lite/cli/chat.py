"""`rass-lite chat`: one answer from a model, optionally steered by a control-vector file."""

from __future__ import annotations

from contextlib import nullcontext

from ..cvec_file import ControlVector
from .common import add_model_options, load_engine, out, parse_range


def register(sub) -> None:
    p = sub.add_parser("chat", help="answer one prompt (greedy unless --temperature)")
    add_model_options(p)
    p.add_argument("prompt")
    p.add_argument("--system", metavar="S", help="system prompt (default: the entry's system_prompt, else the template's)")
    p.add_argument("--max-tokens", type=int, default=256, metavar="N")
    p.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    p.add_argument("--cvec", metavar="FILE.gguf", help="control-vector file to add while answering")
    p.add_argument("--scale", type=float, default=1.0, help="multiplier for --cvec (default 1.0)")
    p.add_argument("--layers", metavar="A-B", help="steer only blocks A..B of --cvec")
    p.set_defaults(run=run)


def run(args) -> int:
    vector = ControlVector.load(args.cvec) if args.cvec else None
    layers = parse_range(args.layers)
    engine = load_engine(args)
    steer = engine.steering(vector.directions, args.scale, layers) if vector else nullcontext()
    with steer:
        answer = engine.generate(args.prompt, system=args.system, max_tokens=args.max_tokens,
                                 temperature=args.temperature, seed=args.seed)
    out.print(answer.strip(), soft_wrap=True, markup=False)
    return 0
