"""`rass-lite chat`: one answer from a model, optionally steered by a control-vector file."""

from __future__ import annotations

from contextlib import nullcontext

from ..vectors import ControlVector
from .common import add_model_options, add_steering_options, load_local_model, load_model, out, parse_range


def register(sub) -> None:
    p = sub.add_parser("chat", help="answer one prompt (greedy unless --temperature)")
    add_model_options(p)
    p.add_argument("prompt")
    p.add_argument("--system", metavar="S", help="system prompt (default: the entry's system_prompt, else the template's)")
    p.add_argument("--max-tokens", type=int, default=256, metavar="N")
    p.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    add_steering_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    vector = ControlVector.load(args.cvec) if args.cvec else None
    layers = parse_range(args.layers)
    model = load_local_model(args, "--cvec") if vector else load_model(args)
    steer = model.steering(vector.directions, args.scale, layers) if vector else nullcontext()
    with steer:
        answer = model.generate(args.prompt, system=args.system, max_tokens=args.max_tokens,
                                 temperature=args.temperature, seed=args.seed)
    out.print(answer.strip(), soft_wrap=True, markup=False)
    return 0
