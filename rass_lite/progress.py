"""Progress reporting shared by the CLI (rich) and the TUI (ProgressBar).

Long functions take `progress: Progress | None` and call it as `progress(done, total, message)`.
The library never draws anything itself.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def __call__(self, done: int, total: int, message: str = "") -> None: ...


def silent(done: int, total: int, message: str = "") -> None:
    """A Progress that shows nothing."""


class Cancelled(Exception):
    """Raised by a long call whose `should_stop()` turned true; what was finished is kept by the caller."""
