"""Probe: build (run_probe, as `rass-lite probe`) or load a probe; separation by layer with the
chosen layer marked, refusal counts, the boundary histogram, and the control-vector export."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Static

from rass_lite.errors import InputError, RassError

from ..charts import histogram, layer_chart
from ..jobs import run_folder


class ProbePane(Vertical):
    def compose(self) -> ComposeResult:
        with Horizontal(classes="bar"):
            yield Input(placeholder="harmful .jsonl (default: packaged)", id="probe-harmful", compact=True)
            yield Input(placeholder="harmless .jsonl (default: packaged)", id="probe-harmless", compact=True)
            yield Input(placeholder="layer", id="probe-layer", compact=True, type="integer")
            yield Input(placeholder="A-B", id="probe-layers", compact=True)
            yield Checkbox("no behaviour", id="probe-no-behaviour", compact=True)
            yield Checkbox("+ bench train", id="probe-bench-train", compact=True)
        with Horizontal(classes="bar"):
            yield Input(placeholder="probe folder (default: the runs home)", id="probe-out", compact=True)
            yield Button("Build", id="probe-build", variant="primary", compact=True)
            yield Button("Load", id="probe-load", compact=True)
            yield Input(placeholder="control-vector.gguf", id="probe-cvec", compact=True)
            yield Button("Export", id="probe-export", compact=True)
        with Horizontal(classes="bar"):
            yield ProgressBar(id="probe-progress", show_eta=True)
            yield Label("", id="probe-status")
        with VerticalScroll():
            yield Static("build a probe, or load a probe folder", id="probe-summary")
            yield Static("", id="probe-chart", classes="chart")
            yield Static("", id="probe-hist", classes="chart")

    def value(self, name: str) -> str:
        return self.query_one(f"#probe-{name}", Input).value.strip()

    @on(Button.Pressed, "#probe-build")
    def build(self) -> None:
        from rass_lite.cli.common import parse_range
        from rass_lite.probe.sets import load_probe_sets, with_bench_train

        app = self.app
        try:  # as `rass-lite probe`: the packaged sets in all eight languages, or every language of a file
            harmful, harmless = load_probe_sets(self.value("harmful") or None, self.value("harmless") or None)
            if self.query_one("#probe-bench-train", Checkbox).value:  # as --with-bench-train
                harmful, harmless = with_bench_train(harmful, harmless)
            span = parse_range(self.value("layers") or None)
            layer = int(self.value("layer")) if self.value("layer") else None
        except RassError as exc:
            app.fail(exc)
            return
        behaviour = not self.query_one("#probe-no-behaviour", Checkbox).value
        out = self.value("out")
        bar, status = self.query_one("#probe-progress", ProgressBar), self.query_one("#probe-status", Label)

        def work(job) -> None:
            from rass_lite.probe import Probe, run_probe
            from rass_lite.probe.step import probe_spec

            folder = Path(out) if out else run_folder(app.runs_home, "probe", job.engine.name,
                                                      probe_spec(job.engine, harmful, harmless, behaviour=behaviour))
            result = run_probe(job.engine, harmful, harmless, folder, layer=layer, layers=span, behaviour=behaviour,
                               progress=job.progress_to(bar, status), should_stop=job.should_stop)
            probe = Probe.load(folder)
            job.ui(self.set_probe, probe, str(folder), result)

        app.start("probe", work, long=True, activations=True)

    def set_probe(self, probe, folder: str, result=None) -> None:
        app = self.app
        app.probe, app.probe_dir = probe, folder
        self.query_one("#probe-out", Input).value = folder
        self.query_one("#probe-status", Label).update(f"probe layer {probe.layer} -> {folder}")
        self.show(probe, result)
        app.log_line(f"probe layer {probe.layer} ({probe.meta.get('model')}) -> {folder}")

    @on(Button.Pressed, "#probe-load")
    def load(self) -> None:
        from rass_lite.probe import Probe, check_probe_matches

        folder = self.value("out")
        if not folder:
            self.app.fail(InputError("give the probe folder to load"))
            return
        try:
            probe = Probe.load(folder)
            if self.app.engine is not None:
                check_probe_matches(probe, self.app.engine)
        except RassError as exc:
            self.app.fail(exc)
            return
        self.set_probe(probe, folder)

    def show(self, probe, result=None) -> None:
        import numpy as np

        meta, b = probe.meta, probe.boundary
        counts = meta.get("refusal_counts")
        lines = [f"[b]layer {probe.layer}[/] · boundary {b.method} threshold {b.threshold:.3f} · "
                 f"steering blocks {probe.steering_blocks[0]}-{probe.steering_blocks[1]}"]
        if counts:
            lines.append(f"refused: harmful {counts['harmful_refused']}/{counts['harmful_total']} · "
                         f"harmless {counts['harmless_refused']}/{counts['harmless_total']}")
        self.query_one("#probe-summary", Static).update("\n".join(lines))
        self.query_one("#probe-chart", Static).update(layer_chart(meta.get("layers", []), probe.layer))
        if result is not None:
            proj = result.projections
            groups = {"harmful": proj[result.is_harmful], "harmless": proj[~result.is_harmful]}
            if result.refused is not None:
                groups["refused"] = proj[np.asarray(result.refused)]
            self.query_one("#probe-hist", Static).update(histogram(groups, {"boundary": float(b.threshold)}))
        else:
            self.query_one("#probe-hist", Static).update("(the boundary histogram shows after a build; Build on a "
                                                         "finished folder reuses its captures)")

    @on(Button.Pressed, "#probe-export")
    def export(self) -> None:
        probe = self.app.probe
        if probe is None:
            self.app.fail(InputError("no probe: build or load one first"))
            return
        path = self.value("cvec") or str(Path(self.app.probe_dir or ".") / "control-vector.gguf")
        # As `rass-lite cvec export --probe DIR --out FILE` (scale 1, the probe's steering blocks).
        vector = probe.vectors.scaled(1.0, probe.steering_blocks)
        try:
            vector.save(path)
        except (RassError, OSError) as exc:
            self.app.fail(exc)
            return
        self.app.notify(f"wrote blocks {min(vector.directions)}-{max(vector.directions)} -> {path} "
                        f"(llama-cli --control-vector {path})")
