"""Options and output helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..errors import InputError

out = Console(highlight=False)  # results
err = Console(stderr=True, highlight=False)  # progress and notes


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", "-m", metavar="M", help="models.toml name or path to a .gguf (default: the registry's default)")
    parser.add_argument("--models", metavar="FILE", help="extra models.toml merged over the built-in registry")
    parser.add_argument("--n-gpu-layers", type=int, metavar="N", help="layers to offload to the GPU (GPU builds only)")
    parser.add_argument("--threads", type=int, metavar="N", help="CPU threads (default: all cores)")
    parser.add_argument("--concurrency", type=int, metavar="N",
                        help="requests in flight to a served model (default 4)")


def load_model(args: argparse.Namespace):
    """The backend of --model: a local GGUF (fetched first when needed) or a served model."""
    from ..backends import load_backend

    with progress_bar("fetching model") as progress:
        return load_backend(args.model, models_file=args.models, progress=progress, concurrency=args.concurrency,
                            n_gpu_layers=args.n_gpu_layers, n_threads=args.threads)


def load_local_model(args: argparse.Namespace, what: str):
    """The backend of --model for a step that needs hidden states: a served model is one clear error,
    raised before anything is loaded or fetched."""
    from ..backends import require_activations
    from ..backends.base import activations_error
    from ..models.registry import load_registry

    entry = load_registry(args.models).get(args.model)
    if entry.served:
        raise activations_error(entry.name, what)
    return require_activations(load_model(args), what)


def split_list(text: str | None) -> list[str] | None:
    """'en, zh' -> ['en', 'zh']; None stays None."""
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def add_steering_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cvec", metavar="FILE.gguf", help="steer with this control-vector file while answering")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplier for --cvec (default 1.0)")
    parser.add_argument("--layers", metavar="A-B", help="steer only blocks A..B of --cvec")


def parse_range(text: str | None, what: str = "--layers") -> tuple[int, int] | None:
    """'A-B' or 'A' -> (A, B) inclusive."""
    if text is None:
        return None
    try:
        lo, _, hi = text.partition("-")
        lo_i, hi_i = int(lo), int(hi or lo)
    except ValueError:
        raise InputError(f"{what} must look like 10-14 or 12, got {text!r}") from None
    if lo_i > hi_i or lo_i < 0:
        raise InputError(f"{what} {text!r} is not a valid range (A-B with 0 <= A <= B)")
    return lo_i, hi_i


@contextmanager
def progress_bar(description: str, transient: bool = True) -> Iterator:
    """A `Progress` callback drawn as a rich bar on stderr (nothing when stderr is not a terminal)."""
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                   console=err, transient=transient, disable=not sys.stderr.isatty())
    with bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int, message: str = "") -> None:
            bar.update(task, completed=done, total=total or None,
                       description=f"{description}: {message}" if message else description)

        yield update
