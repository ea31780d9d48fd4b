"""`rass-lite chat`: one answer from a model, optionally steered by a control-vector file."""

from __future__ import annotations

from contextlib import nullcontext

from ..vectors import ControlVector
from ..errors import InputError
from .common import add_model_options, add_steering_options, err, load_local_model, load_model, out, parse_range


def register(sub) -> None:
    p = sub.add_parser("chat", help="answer one prompt (greedy unless --temperature)")
    add_model_options(p)
    p.add_argument("prompt")
    p.add_argument("--system", metavar="S", help="system prompt (default: the entry's system_prompt, else the template's)")
    p.add_argument("--max-tokens", type=int, default=256, metavar="N")
    p.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    add_steering_options(p)
    p.add_argument("--mitigate", metavar="DIR", help="a mitigation folder (from `mitigate sweep`): steer when it says so")
    p.add_argument("--why", action="store_true", help="with --mitigate: say whether the prompt was steered and why")
    p.add_argument("--lang", default="en", metavar="L",
                   help="with --mitigate: the prompt's language (for its refusal markers in the behaviour score; default en)")
    p.set_defaults(run=run)


def run(args) -> int:
    vector = ControlVector.load(args.cvec) if args.cvec else None
    layers = parse_range(args.layers)
    if vector is not None and args.mitigate:
        raise InputError("give --cvec or --mitigate, not both")
    model = load_local_model(args, "--cvec" if vector else "--mitigate") if vector or args.mitigate else load_model(args)
    steer = model.steering(vector.directions, args.scale, layers) if vector else nullcontext()
    if args.mitigate:
        from ..mitigate.steer import load_mitigation
        from ..probe import Probe, check_probe_matches

        mitigation = load_mitigation(args.mitigate, model)
        probe = Probe.load(mitigation.probe)
        check_probe_matches(probe, model)
        (decision,) = mitigation.decide(model, probe, [args.prompt], langs=[args.lang])
        if decision["steered"]:
            steer = mitigation.steering(model, probe)
        if args.why:
            detail = ", ".join(f"{k} {v:+.2f}" for k, v in decision.items() if k in ("harm", "refusal_score"))
            err.print(f"{'steered' if decision['steered'] else 'not steered'}: {decision['why']}"
                      + (f" ({detail})" if detail else ""))
    with steer:
        answer = model.generate(args.prompt, system=args.system, max_tokens=args.max_tokens,
                                 temperature=args.temperature, seed=args.seed)
    out.print(answer.strip(), soft_wrap=True, markup=False)
    return 0
