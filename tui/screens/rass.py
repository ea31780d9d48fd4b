"""RASS: generate → search → select → verify (run_rass, with the CLI's specs), per-stage progress,
a live candidate table read from the run folders, the score histogram with the band, and the
needs-review rows sent to Triage."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, DataTable, Input, Label, ProgressBar, Static

from rass_lite.cli.rass import DEFAULT_LANGS
from rass_lite.errors import InputError, RassError
from rass_lite.generate.step import GenerateSpec
from rass_lite.select.band import DEFAULT_BAND

from ..charts import histogram
from ..jobs import run_folder
from .bench import side_model

# The CLI's defaults (`rass-lite rass`), so a run from the pane equals the command's.
FIELDS = [("langs", DEFAULT_LANGS, 12), ("n-per-category", str(GenerateSpec.n_per_category), 4),
          ("rounds", str(GenerateSpec.rounds), 4), ("parents", str(GenerateSpec.parents), 4),
          ("children", str(GenerateSpec.children), 4), ("n", "20", 4), ("band", f"{DEFAULT_BAND[0]:g},{DEFAULT_BAND[1]:g}", 7)]


class RassPane(Vertical):
    def compose(self) -> ComposeResult:
        with Horizontal(classes="bar"):
            for name, default, _ in FIELDS:
                yield Label(name.split("-")[0])
                yield Input(default, id=f"rass-{name}", compact=True)
            yield Checkbox("no verify", id="rass-no-verify", compact=True)
        with Horizontal(classes="bar"):
            yield Input(placeholder="categories (default all)", id="rass-categories", compact=True)
            yield Input(placeholder="out folder (default: the runs home)", id="rass-out", compact=True)
            yield Button("Run", id="rass-run", variant="primary", compact=True)
            yield Button("Review in Triage", id="rass-review", compact=True)
        with Horizontal(classes="bar"):
            yield ProgressBar(id="rass-progress", show_eta=True)
            yield Label("", id="rass-status")
        yield DataTable(id="rass-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="rass-hist-box"):
            yield Static("", id="rass-hist")

    def on_mount(self) -> None:
        self.query_one("#rass-table", DataTable).add_columns("id", "lang", "category", "score", "p_ref", "verdict", "prompt")
        self.folder: Path | None = None
        self.result = None
        self.timer = None

    def args(self) -> argparse.Namespace:
        v = {name: self.query_one(f"#rass-{name}", Input).value.strip() for name, _, _ in FIELDS}
        try:
            ints = {k.replace("-", "_"): int(v[k]) for k in ("n-per-category", "rounds", "parents", "children", "n")}
        except ValueError:
            raise InputError("n-per-category, rounds, parents, children and n must be whole numbers") from None
        models = self.app.pane_models()
        from rass_lite.generate.step import SCREEN

        return argparse.Namespace(probe=self.app.probe_dir, langs=v["langs"], band=v["band"], screen=SCREEN,
                                  categories=self.query_one("#rass-categories", Input).value.strip() or None,
                                  generator=models.choice("generator"), judge=models.choice("judge"), seeds=None,
                                  seed=0, no_verify=self.query_one("#rass-no-verify", Checkbox).value,
                                  models=self.app.models_file, **ints)

    @on(Button.Pressed, "#rass-run")
    def run(self) -> None:
        from rass_lite.cli.rass import _band, _generate_parts, _select_spec

        app = self.app
        try:
            args = self.args()
            _band(args.band)
            if args.n < 1:
                raise InputError("n must be at least 1 (prompts kept per language)")
        except RassError as exc:
            app.fail(exc)
            return
        out = self.query_one("#rass-out", Input).value.strip()
        bar, status = self.query_one("#rass-progress", ProgressBar), self.query_one("#rass-status", Label)

        def work(job) -> None:
            from rass_lite.rass import run_rass

            target, probe = job.engine, job.probe
            # The CLI's own spec builder; the generator is loaded here (the CLI's loader draws on stderr).
            spec, _, seeds = _generate_parts(argparse.Namespace(**{**vars(args), "rounds": 0}), target, probe)
            generator = None
            if args.rounds > 0:
                generator = side_model(app, args.generator, target)
                if getattr(generator, "template", True) is None:
                    raise InputError(f"generator {generator.name!r} has no chat template; use an instruct model")
                spec = replace(spec, rounds=args.rounds, generator=generator.name, generator_sha256=generator.identity)
            judge = None if args.no_verify else side_model(app, args.judge, target)
            folder = Path(out) if out else run_folder(app.runs_home, "rass", target.name, spec)
            job.ui(self.watch_folder, folder)
            result = run_rass(target, probe, folder, spec,
                              lambda pool, sha: _select_spec(args, target, probe, pool, sha, judge),
                              generator=generator, judge=judge, seed_records=seeds,
                              progress=job.progress_to(bar, status), should_stop=job.should_stop)
            job.ui(self.finished, result)

        app.start("rass", work, long=True, activations=True, probe=True)

    def watch_folder(self, folder: Path) -> None:
        self.folder = folder
        self.query_one("#rass-out", Input).value = str(folder)
        if self.timer is None:
            self.timer = self.set_interval(1.0, self.poll)

    def poll(self) -> None:
        """The live table: candidates as the pool records them, then the selection's verdicts."""
        from rass_lite.runs import read_results

        if self.folder is None:
            return
        pool = [r for r in read_results(self.folder / "pool").values() if r.get("kind") == "candidate"]
        chosen = read_results(self.folder / "select")
        stage = "select + verify" if chosen or (self.folder / "select").exists() else "generate + search"
        self.query_one("#rass-status", Label).update(f"{stage}: {len(pool)} candidates, {len(chosen)} selected")
        self.fill([chosen.get(c["id"], c) for c in pool])

    def fill(self, rows: list[dict]) -> None:
        table = self.query_one("#rass-table", DataTable)
        table.clear()
        rows = sorted(rows, key=lambda c: (c.get("benign") is None, -(c.get("score") or -99)))
        for c in rows[:200]:
            verdict = c.get("benign", "") + (" review" if c.get("needs_review") else "")
            score = f"{c['score']:+.2f}" if c.get("score") is not None else ""
            p = f"{c['p_refuse']:.2f}" if c.get("p_refuse") is not None else ""
            table.add_row(c["id"], c["lang"], c.get("category", ""), score, p, verdict, " ".join(c["prompt"].split())[:50])

    def finished(self, result) -> None:
        if self.timer is not None:
            self.timer.stop()
            self.timer = None
        self.result = result
        self.poll()
        lo, hi = (float(x) for x in self.args().band.split(","))
        scores = [c["score"] for c in result.pool.candidates.values() if c.get("score") is not None]
        picked = [c["score"] for c in result.selected if c.get("score") is not None]
        self.query_one("#rass-hist", Static).update(histogram({"pool": scores, "selected": picked},
                                                              {"band low": lo, "band high": hi}))
        review = sum(1 for c in result.selected if c.get("needs_review"))
        self.query_one("#rass-status", Label).update(
            f"done: {len(result.boundary_set)} in the boundary set, {review} need review -> {self.folder}")
        self.app.log_line(f"rass: {len(result.selected)} selected, boundary set {len(result.boundary_set)} -> {self.folder}")

    @on(Button.Pressed, "#rass-review")
    def review(self) -> None:
        from ..screens.triage import TriagePane

        rows = [c for c in (self.result.selected if self.result else []) if c.get("needs_review")]
        if not rows:
            self.app.fail(InputError("no selected prompt needs review (run RASS first, or every one was judged)"))
            return
        records = [{k: c[k] for k in ("id", "prompt", "lang", "category") if k in c} | {"mark": "review"} for c in rows]
        self.app.action_show("triage")
        self.app.query_one(TriagePane).add_records(records, "review")
