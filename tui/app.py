"""The rass-lite terminal UI: one pane per step (Models, Probe, Triage, RASS, Bench, Mitigate, Log),
one engine owner.

Every model call runs in the app's one group of thread workers ("model"), exclusive: starting one
cancels the one before, which stops at its next step (every long call polls `Job.should_stop`), and
the backend's own lock keeps two workers from ever driving the model at once. Before a new call
would cancel a long run, the app asks. Results come back through `call_from_thread`; RassError
messages become notifications, never tracebacks.
"""

from __future__ import annotations

import logging
import traceback

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, RichLog, Static, TabbedContent, TabPane
from textual.worker import WorkerState, get_current_worker

from rass_lite.errors import InputError, RassError
from rass_lite.models.registry import load_registry
from rass_lite.progress import Cancelled

from .jobs import Job, PaneLogHandler
from .modals import Confirm, Help
from .screens.bench import BenchPane
from .screens.mitigate import MitigatePane
from .screens.models import ModelsPane
from .screens.probe import ProbePane
from .screens.rass import RassPane
from .screens.triage import TriagePane

MIN_SIZE = (80, 24)
PANES = [("models", "Models", ModelsPane), ("probe", "Probe", ProbePane), ("triage", "Triage", TriagePane),
         ("rass", "RASS", RassPane), ("bench", "Bench", BenchPane), ("mitigate", "Mitigate", MitigatePane)]


class RassApp(App):
    """rass-lite: find, measure and reduce overrefusal."""

    CSS_PATH = "app.tcss"
    TITLE = "rass-lite"
    ENABLE_COMMAND_PALETTE = False  # the footer is short at 80 columns
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", show=False), Binding("ctrl+x", "stop", "Stop", priority=True),
                Binding("question_mark", "help", "Help")] + [
        Binding(f"f{i}", f"show('{key}')", title, priority=True)  # work while typing in an input
        for i, (key, title, _) in enumerate(PANES + [("log", "Log", None)], 1)]

    def __init__(self, model: str | None = None, probe: str | None = None, models_file: str | None = None,
                 *, loader=None, runs_home=None):
        super().__init__()
        from rass_lite.backends import load_backend

        # `loader(name, models_file)` makes the backend: the registry's, or a fake one in tests.
        self.real_loader = loader is None
        self.loader = loader or (lambda name, models_file, progress=None: load_backend(
            name, models_file=models_file, progress=progress))
        self.runs_home = runs_home
        self.registry = load_registry(models_file)
        self.models_file = models_file
        self.initial_model = model or self.registry.default
        self.initial_probe = probe or ""
        self.engine = None
        self.probe = None
        self.probe_dir: str | None = None
        self.log_lines: list[str] = []
        self._long = None  # the worker of the long run going, if any
        self._handler = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"rass-lite needs a terminal of at least {MIN_SIZE[0]}×{MIN_SIZE[1]}; "
                     "make this one bigger.", id="too-small")
        with TabbedContent(id="tabs"):
            for i, (key, title, pane) in enumerate(PANES, 1):
                with TabPane(f"F{i} {title}", id=key):
                    yield pane()
            with TabPane("F7 Log", id="log-tab"):
                yield RichLog(id="log", wrap=True, markup=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        import asyncio

        self._handler = PaneLogHandler(self, asyncio.get_running_loop())
        logging.getLogger("rass_lite").addHandler(self._handler)
        self.fit_to(self.size)
        self.load_model(self.initial_model, self.initial_probe)

    def on_unmount(self) -> None:
        if self._handler is not None:
            logging.getLogger("rass_lite").removeHandler(self._handler)

    def on_resize(self, event) -> None:
        self.fit_to(event.size)

    def fit_to(self, size) -> None:
        small = size.width < MIN_SIZE[0] or size.height < MIN_SIZE[1]
        self.query_one("#too-small").display = small
        self.query_one("#tabs").display = not small

    # --- actions ----------------------------------------------------------------------------------
    def action_show(self, key: str) -> None:
        # Drop focus first: a focused widget left in the old pane would pull the tabs back to it.
        self.set_focus(None)
        self.query_one("#tabs", TabbedContent).active = "log-tab" if key == "log" else key

    def action_help(self) -> None:
        self.push_screen(Help())

    def action_stop(self) -> None:
        running = [w for w in self.workers if w.group == "model" and w.state == WorkerState.RUNNING]
        for w in running:
            w.cancel()
        if running:
            self.notify("stopping after the current step; finished work is kept", timeout=4)

    def log_line(self, text: str) -> None:
        self.log_lines.append(text)
        self.query_one("#log", RichLog).write(text)

    def fail(self, exc: Exception) -> None:
        self.log_line(f"[red]error:[/] {exc}")
        self.notify(str(exc), title="rass-lite", severity="error", timeout=8)

    def engine_changed(self) -> None:
        for _, _, cls in PANES:
            hook = getattr(self.pane(cls), "engine_changed", None)
            if hook is not None:
                hook()

    def pane_models(self) -> ModelsPane:
        return self.query_one(ModelsPane)

    def pane(self, cls):
        return self.query_one(cls)

    # --- the engine owner ------------------------------------------------------------------------
    def busy(self) -> str | None:
        w = self._long
        return w.name if w is not None and w.state in (WorkerState.PENDING, WorkerState.RUNNING) else None

    def start(self, what: str, fn, *, long: bool = False, activations: bool = False, probe: bool = False,
              model: bool = True) -> None:
        """Run `fn(job)` in the model worker, after the checks every step shares."""
        from rass_lite.backends.base import ActivationBackend

        if model and self.engine is None:
            self.pane(ModelsPane).offer_load(what)
            return
        if activations and not isinstance(self.engine, ActivationBackend):
            self.fail(InputError(f"{what} needs the model's hidden states, which a served model ({self.engine.name}) "
                                 "does not expose; load a local GGUF model on Models (F1)"))
            return
        if probe and self.probe is None:
            self.fail(InputError(f"{what} needs a probe: build or load one on Probe (F2), or give a probe folder on Models (F1)"))
            return
        going = self.busy()
        if going:
            def answer(ok: bool | None) -> None:
                if ok:
                    self._run(what, fn, long)
            self.push_screen(Confirm(f"{going} is running. Stop it (what it finished is kept) and start {what}?"), answer)
            return
        self._run(what, fn, long)

    def _run(self, what: str, fn, long: bool) -> None:
        worker = self._job(what, fn)
        worker.name = what
        if long:
            self._long = worker

    @work(thread=True, exclusive=True, group="model", exit_on_error=False)
    def _job(self, what: str, fn) -> None:
        job = Job(self, get_current_worker(), what)
        try:
            fn(job)
        except Cancelled:
            self.call_from_thread(self.log_line, f"[yellow]{what} stopped[/]; what was finished is kept")
            self.call_from_thread(self.notify, f"{what} stopped; what was finished is kept (start it again to resume)")
        except RassError as exc:
            self.call_from_thread(self.fail, exc)
        except Exception as exc:  # a bug: its traceback goes to the log pane, not over the screen
            self.call_from_thread(self.log_line, traceback.format_exc())
            self.call_from_thread(self.notify, f"internal error in {what}: {type(exc).__name__}: {exc} (see Log, F7)",
                                  severity="error", timeout=10)

    def load_model(self, name: str, probe_dir: str = "") -> None:
        """Load `name` (and a probe folder) as the target; asks first when a run is going."""
        self.start(f"loading {name}", lambda job: self.pane(ModelsPane).load_job(job, name, probe_dir), model=False)


def run_app(model: str | None = None, probe: str | None = None, models_file: str | None = None) -> None:
    # Python's last-resort log handler writes to stderr, which would tear the screen.
    logging.getLogger("rass_lite").addHandler(logging.NullHandler())
    logging.getLogger("rass_lite").propagate = False
    RassApp(model, probe, models_file).run()


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="rass-lite-tui", description="rass-lite terminal UI")
    parser.add_argument("--model", "-m")
    parser.add_argument("--probe", metavar="DIR")
    parser.add_argument("--models", metavar="FILE")
    args = parser.parse_args(argv)
    try:
        run_app(args.model, args.probe, args.models)
    except RassError as exc:
        raise SystemExit(f"error: {exc}") from None
