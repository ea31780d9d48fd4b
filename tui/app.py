"""Prompt triage in a terminal: pick a model (and a probe), type a prompt, see the answer, its refusal
label, the first-token refusal probability and the boundary score; try it steered; run the quick
multilingual check with a progress bar.

Blocking model calls run in thread workers of one group ("model"), exclusive: starting one cancels
the one before, which stops at its next decode step (every long call polls `worker.is_cancelled`),
and the backend's own lock keeps two workers from ever driving the model at once — a Load pressed
during a run waits for the run's current step, then closes the model. Results come back through
`call_from_thread`.
"""

from __future__ import annotations

from textual import on, work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Footer, Header, Input, Label, ProgressBar, RichLog, Select

from rass_lite.errors import RassError
from rass_lite.models.registry import load_registry
from rass_lite.progress import Cancelled


class RassApp(App):
    """rass-lite: overrefusal triage."""

    CSS_PATH = "app.tcss"
    TITLE = "rass-lite"
    BINDINGS = [("ctrl+q", "quit", "Quit"), ("ctrl+r", "answer", "Answer")]

    def __init__(self, model: str | None = None, probe: str | None = None, models_file: str | None = None,
                 *, loader=None, runs_home=None):
        super().__init__()
        from rass_lite.backends import load_backend

        # `loader(name, models_file)` makes the backend: the registry's, or a fake one in tests.
        self.loader = loader or (lambda name, models_file: load_backend(name, models_file=models_file))
        self.runs_home = runs_home
        self.registry = load_registry(models_file)
        self.models_file = models_file
        self.initial_model = model or self.registry.default
        self.initial_probe = probe or ""
        self.engine = None
        self.probe = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="sidebar"):
            yield Label("Model")
            yield Select([(name, name) for name in self.registry.entries], value=self.initial_model,
                         allow_blank=False, id="model")
            yield Label("Probe folder (optional)")
            yield Input(self.initial_probe, placeholder="runs/probe", id="probe")
            yield Button("Load", id="load", variant="primary")
            yield Checkbox("Steer −0.5 (probe layer ±2)", id="steer")
            yield Button("Quick check", id="quick")
            yield ProgressBar(id="bench-progress", show_eta=True)
        with Vertical(id="main"):
            yield Input(placeholder="Type a prompt and press Enter", id="prompt")
            with Horizontal(id="actions"):
                yield Button("Answer", id="answer", variant="success", disabled=True)
                yield Button("Score", id="score", disabled=True)
            yield RichLog(id="log", wrap=True, markup=True)
        yield Footer()

    def on_mount(self) -> None:
        self.load_model()

    def log_line(self, text: str) -> None:
        self.query_one("#log", RichLog).write(text)

    def fail(self, exc: Exception) -> None:
        self.notify(str(exc), title="rass-lite", severity="error", timeout=8)

    # --- loading ------------------------------------------------------------------------------------
    @on(Button.Pressed, "#load")
    def reload(self) -> None:
        self.load_model()

    def load_model(self) -> None:
        self._enable(False)
        self._load(self.query_one("#model", Select).value, self.query_one("#probe", Input).value.strip())

    @work(thread=True, exclusive=True, group="model")
    def _load(self, name: str, probe_dir: str) -> None:
        from rass_lite.probe import Probe

        self.call_from_thread(self.log_line, f"[dim]loading {name}…[/]")
        try:
            self.probe = Probe.load(probe_dir) if probe_dir else None
            if self.engine is not None:
                old, self.engine = self.engine, None
                old.close()  # waits for a cancelled run's current step: never closes under a decode
            self.engine = self.loader(name, self.models_file)
        except RassError as exc:
            self.call_from_thread(self.fail, exc)
            return
        probe_note = f", probe layer {self.probe.layer}" if self.probe else ""
        self.call_from_thread(self.log_line, f"[b]{self.engine.name}[/] ready ({self.engine.n_layers} layers{probe_note})")
        self.call_from_thread(self._enable, True)

    def _enable(self, ready: bool) -> None:
        self.query_one("#answer", Button).disabled = not ready
        self.query_one("#score", Button).disabled = not (ready and self.probe is not None)

    # --- one prompt ---------------------------------------------------------------------------------
    @on(Input.Submitted, "#prompt")
    @on(Button.Pressed, "#answer")
    def action_answer(self) -> None:
        prompt = self.query_one("#prompt", Input).value
        if self.engine is not None:
            self.answer(prompt, self.query_one("#steer", Checkbox).value)

    @work(thread=True, exclusive=True, group="model")
    def answer(self, prompt: str, steer: bool) -> None:
        from contextlib import nullcontext

        from rass_lite.refusal.detect import detect_refusal
        from rass_lite.refusal.first_token import p_refuse_first_token

        try:
            if steer and self.probe is None:
                raise RassError("steering needs a probe folder: fill it in and press Load")
            steering = (self.engine.steering(self.probe.vectors.directions, -0.5, self.probe.steering_blocks)
                        if steer else nullcontext())
            first = p_refuse_first_token(self.engine, prompt)
            with steering:
                text = self.engine.generate(prompt, max_tokens=96)
            verdict = detect_refusal(prompt, text, "en")
        except RassError as exc:
            self.call_from_thread(self.fail, exc)
            return
        colour = {"refuse": "red", "partial": "yellow", "comply": "green"}.get(verdict.label, "white")
        self.call_from_thread(self.log_line, f"\n[b]> {prompt}[/]{' [magenta](steered)[/]' if steer else ''}\n{text.strip()}")
        self.call_from_thread(self.log_line, f"[{colour}]{verdict.label}[/] ({verdict.reason}) · "
                                             f"first-token P(refuse) {first:.2f}")

    @on(Button.Pressed, "#score")
    def on_score(self) -> None:
        self.score(self.query_one("#prompt", Input).value)

    @work(thread=True, exclusive=True, group="model")
    def score(self, prompt: str) -> None:
        from rass_lite.score import score_records

        try:
            (row,) = score_records(self.engine, self.probe, [{"id": "tui", "prompt": prompt, "lang": "en"}])
        except RassError as exc:
            self.call_from_thread(self.fail, exc)
            return
        self.call_from_thread(self.log_line, f"score {row['score']:+.2f} · p_refuse {row['p_refuse']:.2f} · zone [b]{row['zone']}[/]")

    # --- quick multilingual check ------------------------------------------------------------------
    @on(Button.Pressed, "#quick")
    def on_quick(self) -> None:
        if self.engine is not None:
            self.quick_check()

    @work(thread=True, exclusive=True, group="model")
    def quick_check(self) -> None:
        from textual.worker import get_current_worker

        from rass_lite.bench import BenchSpec, run_bench
        from rass_lite.bench.datasets import load_set, quick_sample
        from rass_lite.bench.report import load_results, summarise
        from rass_lite.refusal.detect import detect_refusal
        from rass_lite.runs import default_folder

        worker, engine = get_current_worker(), self.engine
        bar = self.query_one("#bench-progress", ProgressBar)
        records, set_sha = load_set("morbench-lite")
        records = quick_sample(records)
        # The same spec as `rass-lite bench --quick`, so CLI and TUI runs share folders and resume.
        spec = BenchSpec(model=engine.name, model_sha256=engine.identity, set="morbench-lite", set_sha256=set_sha,
                         n=len(records), quick=True)
        folder = default_folder("bench", engine.name, spec) if self.runs_home is None else self.runs_home / spec.model
        try:
            folder, status = run_bench(
                engine, records, folder, spec, label=lambda p, r, lang: detect_refusal(p, r, lang),
                progress=lambda done, total, message="": self.call_from_thread(bar.update, total=total, progress=done),
                should_stop=lambda: worker.is_cancelled)
            if status == "cancelled":
                self.call_from_thread(self.log_line, f"[yellow]quick check stopped[/]; it resumes from {folder}")
                return
            summary = summarise(load_results(folder))
        except (RassError, Cancelled) as exc:
            self.call_from_thread(self.fail, exc)
            return
        for lang, h in summary["headline"].items():
            cells = " · ".join(f"{k} {100 * v['rate']:.0f}% ({v['k']}/{v['n']})" for k, v in h.items())
            self.call_from_thread(self.log_line, f"[b]{lang}[/] {cells}")


def main() -> None:
    import argparse
    import logging

    # Python's last-resort log handler writes to stderr, which would tear the screen.
    logging.getLogger("rass_lite").addHandler(logging.NullHandler())
    logging.getLogger("rass_lite").propagate = False

    parser = argparse.ArgumentParser(prog="rass-lite-tui", description="rass-lite terminal UI")
    parser.add_argument("--model", "-m")
    parser.add_argument("--probe", metavar="DIR")
    parser.add_argument("--models", metavar="FILE")
    args = parser.parse_args()
    try:
        RassApp(args.model, args.probe, args.models).run()
    except RassError as exc:
        raise SystemExit(f"error: {exc}") from None
