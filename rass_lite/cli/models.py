"""`rass-lite models list|fetch|info`."""

from __future__ import annotations

import argparse
import json

from rich.table import Table

from ..errors import InputError
from ..models.describe import describe_models
from ..models.fetch import cached_path, fetch_model
from ..models.gguf_info import read_info
from ..models.registry import load_registry
from .common import err, out, progress_bar


def register(sub) -> None:
    parser = sub.add_parser("models", help="list, fetch and inspect registry models")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--models", metavar="FILE", help="extra models.toml merged over the built-in registry")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("list", parents=[common], help="registry models with size and cache state")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_list)
    p = verbs.add_parser("fetch", parents=[common], help="download, verify and cache a model; prints its path")
    p.add_argument("name", nargs="?", help="model name (default: the registry's default)")
    p.set_defaults(run=run_fetch)
    p = verbs.add_parser("info", parents=[common], help="architecture, layers, n_embd, context, quantization, chat template")
    p.add_argument("name", nargs="?", help="model name or path to a .gguf")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_info)


def run_list(args) -> int:
    rows = describe_models(load_registry(args.models))
    if args.json:
        out.print_json(json.dumps([r.as_dict() for r in rows]))
        return 0
    table = Table("name", "kind", "size", "cached", "description", box=None)
    for r in rows:
        size = f"{r.size / 1e6:.0f} MB" if r.size else "-" if r.kind == "served" else "?"
        cached = "-" if r.cached is None else "yes" if r.cached else "no"
        table.add_row(r.name + (" (default)" if r.default else ""), r.kind, size, cached, r.description)
    out.print(table)
    return 0


def _local(entry):
    if entry.served:
        raise InputError(f"model {entry.name!r} is served at {entry.endpoint}; there is no file to fetch or read")
    return entry


def run_fetch(args) -> int:
    entry = _local(load_registry(args.models).get(args.name))
    with progress_bar(f"fetching {entry.name}") as progress:
        path = fetch_model(entry, progress)
    err.print(f"{entry.name}: verified" + (f" sha256 {entry.sha256[:12]}…" if entry.sha256 else " (no sha256 in registry)"))
    out.print(str(path), soft_wrap=True)
    return 0


def run_info(args) -> int:
    entry = _local(load_registry(args.models).get(args.name))
    path = cached_path(entry)
    if not path.is_file():
        with progress_bar(f"fetching {entry.name}") as progress:
            path = fetch_model(entry, progress)
    info = read_info(path)
    data = {"name": entry.name, "path": str(path), "size": info.size, "architecture": info.architecture,
            "n_layers": info.n_layers, "n_embd": info.n_embd, "context_length": info.context_length,
            "quantization": info.quantization, "chat_template": info.has_chat_template or bool(entry.chat_template)}
    if args.json:
        out.print_json(json.dumps(data))
        return 0
    table = Table(show_header=False, box=None)
    for key, value in data.items():
        table.add_row(key, "yes" if value is True else "no" if value is False else str(value))
    out.print(table)
    return 0
