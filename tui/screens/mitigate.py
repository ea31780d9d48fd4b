"""Mitigate: a steering sweep (run_sweep, with the specs of `rass-lite mitigate sweep`) and its
trade-off curve, overrefusal (o) vs harmful refusal (h) per scale, the recommended setting marked."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static

from rass_lite.errors import InputError, RassError

from ..jobs import run_folder


class MitigatePane(Vertical):
    def compose(self) -> ComposeResult:
        from rass_lite.mitigate.sweep import DEFAULT_GATE, DEFAULT_SCALES

        with Horizontal(classes="bar"):
            yield Input("morbench-lite", id="mit-set", compact=True)
            yield Input("en,fr,zh", id="mit-langs", compact=True)
            yield Select([("conditional", "conditional"), ("global", "global")], value="conditional",
                         allow_blank=False, id="mit-mode", compact=True)
            yield Input(",".join(f"{s:g}" for s in DEFAULT_SCALES), id="mit-scales", compact=True)
        with Horizontal(classes="bar"):
            yield Input(f"{DEFAULT_GATE:g}", placeholder="gate", id="mit-gate", compact=True)
            yield Input(placeholder="limit", id="mit-limit", compact=True, type="integer")
            yield Input(placeholder="out folder (default: the runs home)", id="mit-out", compact=True)
            yield Button("Sweep", id="mit-run", variant="primary", compact=True)
        with Horizontal(classes="bar"):
            yield ProgressBar(id="mit-progress", show_eta=True)
            yield Label("", id="mit-status")
        with VerticalScroll():
            yield Static("o = overrefusal, h = harmful refusal, per steering scale (0 % … 100 %)", id="mit-chart")

    def value(self, name: str) -> str:
        return self.query_one(f"#mit-{name}", Input).value.strip()

    @on(Button.Pressed, "#mit-run")
    def run(self) -> None:
        from rass_lite.bench.datasets import load_set, select
        from rass_lite.cli.common import split_list
        from rass_lite.cli.mitigate import parse_scales
        from rass_lite.mitigate.split import split_by_item

        app = self.app
        mode, langs = self.query_one("#mit-mode", Select).value, self.value("langs")
        try:
            scales = parse_scales(self.value("scales"))
            gate = float(self.value("gate"))
            limit = int(self.value("limit")) if self.value("limit") else None
            records, set_sha = load_set(self.value("set"))
            records = select(records, langs=split_list(langs))
        except (RassError, ValueError) as exc:
            app.fail(exc if isinstance(exc, RassError) else InputError("gate and limit must be numbers"))
            return
        _, test = split_by_item(records)
        if limit:
            test = select(test, limit=limit)
        out = self.value("out")
        bar, status = self.query_one("#mit-progress", ProgressBar), self.query_one("#mit-status", Label)

        def work(job) -> None:
            from rass_lite.bench import BATCH_SIZE, DEFAULT_MAX_TOKENS, BenchSpec
            from rass_lite.mitigate.sweep import condition_probe_sets, fit_condition_on, run_sweep
            from rass_lite.probe import check_probe_matches
            from rass_lite.refusal.detect import detect_refusal

            model, probe = job.engine, job.probe
            check_probe_matches(probe, model)
            condition = None
            if mode == "conditional":
                job.ui(status.update, "fitting the harm condition")
                condition = fit_condition_on(model, probe, records, condition_probe_sets(records))
            spec = BenchSpec(model=model.name, model_sha256=model.identity, set=self.value("set"), set_sha256=set_sha,
                             n=len(test), langs=langs, labels=None, limit=limit, probe=str(app.probe_dir),
                             probe_layer=probe.layer, max_tokens=DEFAULT_MAX_TOKENS, batch_size=BATCH_SIZE)
            folder = Path(out) if out else run_folder(app.runs_home, "sweep", model.name, spec)
            summary = run_sweep(model, probe, test, folder, spec, mode=mode, scales=scales, blocks=probe.steering_blocks,
                                condition=condition, gate=gate, label=lambda p, r, lang: detect_refusal(p, r, lang),
                                progress=job.progress_to(bar, status), should_stop=job.should_stop)
            job.ui(self.show, summary, folder)

        app.start("mitigate sweep", work, long=True, activations=True, probe=True)

    def show(self, summary: dict, folder: Path) -> None:
        from rass_lite.mitigate.sweep import chart

        if summary.get("status") == "cancelled":
            self.query_one("#mit-status", Label).update(f"stopped; finished scales are kept in {folder}")
            return
        best = summary.get("recommended_setting")
        rows = chart(summary)
        lines = [f"{'0%':>{rows[0].index('|') + 2}}{'100%':>51}"]
        for line in rows:
            lines.append(line + ("  ◀ recommended" if best is not None and line.split("|")[0].strip() == best else ""))
        note = (f"recommended: {summary['mode']} setting {best} -> {folder}/recommended (use it in Triage A/B or Bench)"
                if best is not None else "no setting cut overrefusal while harmful refusal fell at most 5 points")
        self.query_one("#mit-chart", Static).update("\n".join(lines) + "\n\n" + note)
        self.query_one("#mit-status", Label).update(f"done -> {folder}")
        self.app.log_line(note)
