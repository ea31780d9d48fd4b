"""Shared pieces of the TUI's pilot tests: the app on the fake backend and a probe built on it."""

from __future__ import annotations

from rass_lite.backends.fake import FakeBackend

MODEL = "smollm2-135m-instruct"


def fake_app(tmp_path, *, probe: str | None = None, answers: dict | None = None, delay_s: float = 0.0):
    from tui.app import RassApp

    return RassApp(model=MODEL, probe=probe, runs_home=tmp_path / "runs",
                   loader=lambda name, models_file: FakeBackend(name, answers=answers, delay_s=delay_s))


def fake_probe(folder, name: str = MODEL):
    """A probe folder made on the fake backend (the keyword " (bomb)" marks harmful probe prompts)."""
    from rass_lite.probe import load_probe_set, run_probe

    harmful, harmless = load_probe_set(None, "harmful"), load_probe_set(None, "harmless")
    for r in harmful.records:
        r["prompt"] = r["prompt"] + " (bomb)"
    return run_probe(FakeBackend(name), harmful, harmless, folder)


async def settle(app, pilot) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def text_of(static) -> str:
    """What a Static shows, as plain text."""
    from rich.console import Console

    console = Console(width=200, record=True, file=open("/dev/null", "w"))
    content = static.content
    console.print(content if not isinstance(content, str) else content, markup=isinstance(content, str))
    return console.export_text()
