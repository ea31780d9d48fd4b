"""`rass-lite tui`: the terminal UI (the `tui` package; imported only when this command runs, so the
library never depends on it)."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("tui", help="the terminal UI: models, probe, triage, RASS, bench, mitigation")
    p.add_argument("--model", "-m", help="models.toml name or path to a .gguf (default: the registry's default)")
    p.add_argument("--probe", metavar="DIR", help="a probe folder to load")
    p.add_argument("--models", metavar="FILE", help="extra models.toml merged over the built-in registry")
    p.set_defaults(run=run)


def run(args) -> int:
    from tui.app import run_app

    run_app(args.model, args.probe, args.models)
    return 0
