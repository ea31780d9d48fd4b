"""Models: the registry table (describe_models), fetch with progress, an info panel, and the choice
of target, generator and judge (plus the probe folder loaded with the target)."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Label, ProgressBar, Select, Static
from textual.worker import get_current_worker

from rass_lite.errors import RassError
from rass_lite.models.describe import describe_models
from rass_lite.progress import Cancelled

from ..modals import Confirm


def _size(n: int | None) -> str:
    return "" if n is None else f"{n / 1e6:.0f} MB" if n < 1e9 else f"{n / 1e9:.1f} GB"


def _mark(x) -> str:
    return "" if x is None else "yes" if x is True else "no" if x is False else str(x)


class ModelsPane(Vertical):
    def compose(self) -> ComposeResult:
        names = list(self.app.registry.entries)
        others = [("(the target)", "")] + [(n, n) for n in names]
        with Horizontal():
            with Vertical(id="models-left"):
                yield DataTable(id="models-table", cursor_type="row", zebra_stripes=True)
                yield Static(id="model-info")
            with Vertical(id="models-form", classes="form"):
                yield Label("Target")
                yield Select([(n, n) for n in names], value=self.app.initial_model, allow_blank=False,
                             id="model", compact=True)
                yield Label("Generator (RASS rewrites)")
                yield Select(others, value="", allow_blank=False, id="generator", compact=True)
                yield Label("Judge (bench, RASS verify)")
                yield Select(others, value="", allow_blank=False, id="judge", compact=True)
                yield Label("Probe folder (optional)")
                yield Input(self.app.initial_probe, placeholder="runs/probe", id="probe", compact=True)
                with Horizontal(classes="buttons"):
                    yield Button("Load", id="load", variant="primary", compact=True)
                    yield Button("Fetch", id="fetch", compact=True)
                yield ProgressBar(id="fetch-progress", show_eta=True)
                yield Static("no model loaded", id="model-status")

    def on_mount(self) -> None:
        table = self.query_one("#models-table", DataTable)
        table.add_columns("name", "kind", "size", "cached", "layers", "n_embd", "template")
        self.refresh_table()

    def refresh_table(self) -> None:
        table = self.query_one("#models-table", DataTable)
        table.clear()
        self.rows = {}
        try:
            rows = describe_models(self.app.registry, headers=True)
        except RassError as exc:
            self.app.fail(exc)
            return
        for r in rows:
            self.rows[r.name] = r
            table.add_row(r.name + (" *" if r.default else ""), r.kind, _size(r.size), _mark(r.cached),
                          _mark(r.n_layers), _mark(r.n_embd), _mark(r.chat_template), key=r.name)

    @on(DataTable.RowHighlighted, "#models-table")
    def show_info(self, event: DataTable.RowHighlighted) -> None:
        r = self.rows.get(event.row_key.value)
        if r is not None:
            self.query_one("#model-info", Static).update(f"[b]{r.name}[/] ({r.kind}) {r.description}\n{r.where}")

    @on(DataTable.RowSelected, "#models-table")
    def pick(self, event: DataTable.RowSelected) -> None:
        self.query_one("#model", Select).value = event.row_key.value

    @property
    def target(self) -> str:
        return self.query_one("#model", Select).value

    def choice(self, which: str) -> str | None:
        return self.query_one(f"#{which}", Select).value or None

    # --- load ------------------------------------------------------------------------------------
    @on(Button.Pressed, "#load")
    def on_load(self) -> None:
        self.app.load_model(self.target, self.query_one("#probe", Input).value.strip())

    def offer_load(self, what: str) -> None:
        """No model loaded: offer to load the chosen target (fetching it first when needed)."""
        name = self.target
        entry = self.app.registry.get(name)
        row = self.rows.get(name)
        if self.app.real_loader and not entry.served and row is not None and not row.cached:
            question = f"{what} needs a model, and {name} is not fetched yet ({_size(row.size)}). Fetch and load it now?"
        else:
            question = f"{what} needs a model. Load {name} now?"
        self.app.push_screen(Confirm(question), lambda ok: ok and self.on_load())

    def load_job(self, job, name: str, probe_dir: str) -> None:
        """Runs in the model worker: close the old engine (waiting for a stopped run's current step),
        load the new one, then the probe. A stop during the fetch or load leaves no model half-loaded."""
        from rass_lite.probe import Probe, check_probe_matches

        app = self.app
        job.ui(self.set_status, f"loading {name}…")
        probe = Probe.load(probe_dir) if probe_dir else None
        if app.engine is not None:
            old, app.engine = app.engine, None
            old.close()
        bar = self.query_one("#fetch-progress", ProgressBar)

        def fetching(done: int, total: int, message: str = "") -> None:
            job.check()
            job.ui(bar.update, total=total or None, progress=done)

        engine = app.loader(name, app.models_file, progress=fetching) if app.real_loader else app.loader(name, app.models_file)
        if job.should_stop():
            engine.close()
            raise Cancelled(f"loading {name}")
        if probe is not None:
            try:
                check_probe_matches(probe, engine)
            except RassError:
                engine.close()
                raise
        app.engine, app.probe, app.probe_dir = engine, probe, probe_dir or None
        layers = getattr(engine, "n_layers", None)
        note = (f"{layers} layers" if layers else "served") + (f", probe layer {probe.layer}" if probe else "")
        job.ui(app.log_line, f"[b]{engine.name}[/] ready ({note})")
        job.ui(self.set_status, f"[b]{engine.name}[/] ready ({note})")
        job.ui(app.engine_changed)

    def set_status(self, text: str) -> None:
        self.query_one("#model-status", Static).update(text)

    # --- fetch (no model call: its own worker) --------------------------------------------------------
    @on(Button.Pressed, "#fetch")
    def on_fetch(self) -> None:
        entry = self.app.registry.get(self.target)
        if entry.served:
            self.app.notify(f"{entry.name} is served ({entry.endpoint}); nothing to fetch")
            return
        self.fetch(entry)

    @work(thread=True, exclusive=True, group="fetch", exit_on_error=False)
    def fetch(self, entry) -> None:
        from rass_lite.models.fetch import fetch_model

        worker, bar = get_current_worker(), self.query_one("#fetch-progress", ProgressBar)

        def progress(done: int, total: int, message: str = "") -> None:
            if worker.is_cancelled:
                raise Cancelled("fetch")
            self.app.call_from_thread(bar.update, total=total or None, progress=done)

        try:
            path = fetch_model(entry, progress)
        except (RassError, Cancelled) as exc:
            self.app.call_from_thread(self.app.fail, exc)
            return
        self.app.call_from_thread(self.app.notify, f"{entry.name} fetched: {path}")
        self.app.call_from_thread(self.refresh_table)
