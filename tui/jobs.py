"""The engine owner's plumbing: a `Job` handed to every model call running in the app's one worker
group, and the logging handler that shows rass_lite's (and llama.cpp's) log lines in the Log pane."""

from __future__ import annotations

import logging
from pathlib import Path

from rass_lite.progress import Cancelled
from rass_lite.runs import spec_hash


class Job:
    """What a function running in the model worker sees: the engine and probe it started with, a
    stop flag polled between steps, and `ui` to touch widgets from the worker thread."""

    def __init__(self, app, worker, what: str):
        self.app, self.worker, self.what = app, worker, what
        self.engine, self.probe = app.engine, app.probe

    def should_stop(self) -> bool:
        return self.worker.is_cancelled

    def check(self) -> None:
        if self.worker.is_cancelled:
            raise Cancelled(self.what)

    def ui(self, fn, *args, **kwargs):
        return self.app.call_from_thread(fn, *args, **kwargs)

    def progress_to(self, bar, label=None):
        """A rass_lite `Progress` callback that moves `bar` (and a Label's text, when given)."""
        def update(done: int, total: int, message: str = "") -> None:
            self.ui(bar.update, total=total or None, progress=done)
            if label is not None:
                self.ui(label.update, f"{self.what}: {message} {done}/{total or '?'}".replace("  ", " "))
        return update


class PaneLogHandler(logging.Handler):
    """Writes records into the app's log pane without blocking the thread that logs."""

    def __init__(self, app, loop):
        super().__init__(logging.INFO)
        self.app, self.loop = app, loop
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.loop.call_soon_threadsafe(self.app.log_line, self.format(record))
        except RuntimeError:  # the loop is closed: the app is gone
            pass


def run_folder(home: Path | None, step: str, model: str, spec) -> Path:
    """The CLI's default folder (HOME/runs/MODEL/STEP/HASH), under the app's runs home in tests."""
    from rass_lite.runs import default_folder, runs_dir

    if home is None:
        return default_folder(step, model, spec)
    return Path(home) / default_folder(step, model, spec).relative_to(runs_dir())


def runs_home(app) -> Path:
    from rass_lite.runs import runs_dir

    return Path(app.runs_home) if app.runs_home is not None else runs_dir()


__all__ = ["Job", "PaneLogHandler", "run_folder", "runs_home", "spec_hash"]
