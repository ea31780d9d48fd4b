"""Bench: choose set, languages, labels, limit, probe and mitigation; run with progress and a live
results table; headline and per-language bars on finish; past runs (list_runs): open one, compare
two (paired, McNemar)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (Button, Checkbox, DataTable, Input, Label, ProgressBar, Select, Static, TabbedContent,
                             TabPane)

from rass_lite.errors import InputError, RassError

from ..charts import compare_table, headline_table, lang_bars
from ..jobs import run_folder, runs_home


def side_model(app, name: str | None, current):
    """The model `name` for a second role (judge, generator): the target itself when it is the same."""
    from rass_lite.backends import side_model as shared

    return shared(name, current, lambda other: app.loader(other, app.models_file))


# Answer labels, as `bench --method`; "default" picks as the CLI does (rules on the default model,
# the refusal probe on any other: refusal/detect.py default_method).
LABEL_METHODS = [("refusals: as bench", "default"), ("refusals: rules", "rules"), ("refusals: + judge", "auto"),
                 ("refusals: probe", "probe")]


class BenchPane(Vertical):
    def compose(self) -> ComposeResult:
        with TabbedContent(id="bench-tabs"):
            with TabPane("Run", id="bench-run-tab"):
                with Horizontal(classes="bar"):
                    yield Input("morbench-lite", placeholder="set or file", id="bench-set", compact=True)
                    yield Input(placeholder="langs en,zh", id="bench-langs", compact=True)
                    yield Input(placeholder="labels", id="bench-labels", compact=True)
                    yield Input(placeholder="limit", id="bench-limit", compact=True, type="integer")
                with Horizontal(classes="bar"):
                    yield Checkbox("quick", id="bench-quick", compact=True)
                    yield Checkbox("probe scores", id="bench-use-probe", compact=True)
                    yield Select(LABEL_METHODS, value="default", allow_blank=False, id="bench-method", compact=True)
                    yield Input(placeholder="mitigation folder", id="bench-mitigation", compact=True)
                    yield Button("Run", id="bench-run", variant="primary", compact=True)
                    yield Button("Quick", id="quick", compact=True)
                with Horizontal(classes="bar"):
                    yield ProgressBar(id="bench-progress", show_eta=True)
                    yield Label("", id="bench-status")
                yield DataTable(id="bench-live", cursor_type="row", zebra_stripes=True)
                with VerticalScroll(id="bench-summary-box"):
                    yield Static("", id="bench-summary")
            with TabPane("Runs", id="bench-runs-tab"):
                with Horizontal(classes="bar"):
                    yield Button("Refresh", id="runs-refresh", compact=True)
                    yield Button("Open", id="runs-open", compact=True)
                    yield Button("A", id="runs-a", compact=True)
                    yield Button("B", id="runs-b", compact=True)
                    yield Button("Compare A/B", id="runs-compare", compact=True)
                    yield Label("", id="runs-ab")
                yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
                with VerticalScroll(id="runs-detail-box"):
                    yield Static("", id="runs-detail")

    def on_mount(self) -> None:
        self.query_one("#bench-live", DataTable).add_columns("id", "lang", "label", "refusal", "score", "answer")
        self.query_one("#runs-table", DataTable).add_columns("step", "status", "done", "model", "updated", "folder")
        self.pair: dict[str, str] = {}
        self.refresh_runs()

    def value(self, name: str) -> str | None:
        return self.query_one(f"#bench-{name}", Input).value.strip() or None

    # --- run -------------------------------------------------------------------------------------
    @on(Button.Pressed, "#quick")
    def on_quick(self) -> None:
        self.query_one("#bench-quick", Checkbox).value = True
        self.run_bench()

    @on(Button.Pressed, "#bench-run")
    def run_bench(self) -> None:
        from rass_lite.bench.datasets import load_set, quick_sample, select
        from rass_lite.cli.common import split_list

        app = self.app
        set_name, langs, labels = self.value("set") or "morbench-lite", self.value("langs"), self.value("labels")
        quick, use_probe = self.query_one("#bench-quick", Checkbox).value, self.query_one("#bench-use-probe", Checkbox).value
        mitigation_dir = self.value("mitigation")
        try:
            limit = int(self.value("limit")) if self.value("limit") else None
            records, set_sha = load_set(set_name)
            if quick:
                records = quick_sample(records)
            records = select(records, langs=split_list(langs), labels=split_list(labels), limit=limit)
        except (RassError, ValueError) as exc:
            app.fail(exc if isinstance(exc, RassError) else InputError("limit must be a whole number"))
            return
        judge_name = app.pane_models().choice("judge")
        asked = self.query_one("#bench-method", Select).value
        live = self.query_one("#bench-live", DataTable)
        live.clear()
        bar, status = self.query_one("#bench-progress", ProgressBar), self.query_one("#bench-status", Label)

        def work(job) -> None:
            from rass_lite.bench import BATCH_SIZE, DEFAULT_MAX_TOKENS, BenchSpec, run_bench
            from rass_lite.bench.report import write_report
            from rass_lite.mitigate.steer import load_mitigation
            from rass_lite.probe import Probe, check_probe_matches
            from rass_lite.refusal.detect import default_method, detect_refusal, make_judge

            engine, probe, probe_dir = job.engine, job.probe if use_probe else None, app.probe_dir if use_probe else None
            mitigation = load_mitigation(mitigation_dir, engine) if mitigation_dir else None
            if mitigation is not None and probe is None:
                probe_dir, probe = mitigation.probe, Probe.load(mitigation.probe)
            if probe is not None:
                check_probe_matches(probe, engine)
            method = default_method(engine, app.models_file, judge_name) if asked == "default" else asked
            judge = make_judge(judge_name, app.models_file, engine, lambda name: app.loader(name, app.models_file),
                               probe=method == "probe", steered=mitigation is not None)
            # The spec `rass-lite bench` builds for the same options: CLI and TUI runs share folders.
            spec = BenchSpec(model=engine.name, model_sha256=engine.identity, set=set_name, set_sha256=set_sha,
                             n=len(records), quick=quick, langs=langs, labels=labels, limit=limit,
                             probe=str(probe_dir) if probe_dir else None, probe_layer=probe.layer if probe else None,
                             max_tokens=DEFAULT_MAX_TOKENS, method=method, judge_model=judge_name,
                             batch_size=BATCH_SIZE, mitigation=mitigation.as_dict() if mitigation else None)
            folder = run_folder(app.runs_home, "bench", engine.name, spec)
            folder, result = run_bench(
                engine, records, folder, spec, probe=probe, mitigation=mitigation,
                label=lambda p, r, lang: detect_refusal(p, r, lang, method, judge),
                progress=job.progress_to(bar), should_stop=job.should_stop,
                on_record=lambda r: job.ui(self.add_live, r))
            job.ui(self.refresh_runs)
            if result == "cancelled":
                job.ui(status.update, f"stopped: resumes from {folder}")
                job.ui(app.log_line, f"[yellow]bench stopped[/]; it resumes from {folder}")
                return
            summary, _ = write_report(folder)
            job.ui(status.update, f"done: {folder}")
            job.ui(self.show_summary, summary, "#bench-summary")
            job.ui(app.log_line, f"bench done: {summary['n']} records in {folder}")
            if asked == "default" and method == "probe":
                job.ui(app.log_line, "labels: the refusal probe (the rules miss other models' refusal styles)")
            for lang, h in summary["headline"].items():
                cells = " · ".join(f"{k} {100 * v['rate']:.0f}% ({v['k']}/{v['n']})" for k, v in h.items())
                job.ui(app.log_line, f"[b]{lang}[/] {cells}")

        app.start("bench", work, long=True, activations=use_probe or bool(mitigation_dir), probe=use_probe)

    def add_live(self, r: dict) -> None:
        score = f"{r['score']:+.2f}" if "score" in r else ""
        self.query_one("#bench-live", DataTable).add_row(r["id"], r["lang"], r.get("label", ""), r["refusal"], score,
                                                          " ".join(r["response"].split())[:40])

    def show_summary(self, summary: dict, where: str) -> None:
        from rich.console import Group

        self.query_one(where, Static).update(Group(headline_table(summary), lang_bars(summary)))

    # --- past runs -------------------------------------------------------------------------------
    @on(Button.Pressed, "#runs-refresh")
    def refresh_runs(self) -> None:
        from rass_lite.runs import list_runs

        table = self.query_one("#runs-table", DataTable)
        table.clear()
        home = runs_home(self.app)
        for run in list_runs(home):
            where = str(run.folder.relative_to(home)) if run.folder.is_relative_to(home) else str(run.folder)
            table.add_row(run.step, run.status, f"{run.n_done}/{run.n_total if run.n_total is not None else '?'}",
                          run.model, run.updated_at[:19], where, key=str(run.folder))

    def selected_run(self) -> str | None:
        table = self.query_one("#runs-table", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    @on(Button.Pressed, "#runs-open")
    def open_run(self) -> None:
        from rass_lite.bench.report import load_results, summarise
        from rass_lite.runs import read_run

        folder = self.selected_run()
        if folder is None:
            return
        try:
            info = read_run(folder)
            if info.step != "bench":
                self.query_one("#runs-detail", Static).update(
                    f"{info.step} run, {info.status}, {info.n_done}/{info.n_total} done, {info.elapsed_s:.0f} s\n{folder}")
                return
            self.show_summary(summarise(load_results(folder)), "#runs-detail")
        except RassError as exc:
            self.app.fail(exc)

    @on(Button.Pressed, "#runs-a")
    @on(Button.Pressed, "#runs-b")
    def mark_pair(self, event: Button.Pressed) -> None:
        folder = self.selected_run()
        if folder is not None:
            self.pair[event.button.id[-1]] = folder
            self.query_one("#runs-ab", Label).update(" ".join(f"{k.upper()}✓" for k in sorted(self.pair)))

    @on(Button.Pressed, "#runs-compare")
    def compare_runs(self) -> None:
        from rass_lite.bench.report import compare, load_results

        if set(self.pair) != {"a", "b"}:
            self.app.fail(InputError("mark two bench runs first: select one and press A, another and press B"))
            return
        try:
            comparison = compare(load_results(self.pair["a"]), load_results(self.pair["b"]))
        except RassError as exc:
            self.app.fail(exc)
            return
        if not comparison:
            self.app.fail(InputError("the two runs share no prompt ids; compare runs of the same set"))
            return
        self.query_one("#runs-detail", Static).update(compare_table(comparison, "A", "B"))
