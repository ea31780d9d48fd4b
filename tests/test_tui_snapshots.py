"""A screenshot of every pane at 100×30 (and the app at 80×24) on the fake backend: each renders its
own controls. With RASS_LITE_TUI_DOCS=1 the SVGs are written to docs/ (the README's pictures)."""

import asyncio
import os
from pathlib import Path

import pytest
from textual.widgets import Input

from tui.screens.triage import TriagePane
from tui.triage_core import from_text

from .test_tui_helpers import fake_app, fake_probe, settle
from .test_tui_triage import ANSWERS

DOCS = Path(__file__).resolve().parent.parent / "docs"
PANES = {"models": "Target", "probe": "chosen", "triage": "p_1st", "rass": "rounds", "bench": "Quick",
         "mitigate": "Sweep", "log-tab": "ready"}


def screen_text(app) -> str:
    return "\n".join("".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips())


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
def test_every_pane_renders(tmp_path, size):
    fake_probe(tmp_path / "probe")
    out = DOCS if os.environ.get("RASS_LITE_TUI_DOCS") and size == (100, 30) else tmp_path / "shots"
    out.mkdir(exist_ok=True)

    async def scenario():
        app = fake_app(tmp_path, probe=str(tmp_path / "probe"), answers=ANSWERS)
        async with app.run_test(size=size) as pilot:
            await settle(app, pilot)
            # A build of its own: the pane builds in all eight languages, the loaded fake probe is English.
            app.query_one("#probe-out", Input).value = str(tmp_path / "probe-tui")
            app.query_one("#probe-build").press()
            await settle(app, pilot)
            app.query_one(TriagePane).add_records(from_text("\n".join(ANSWERS) + "\nWrite a haiku about tea."))
            await settle(app, pilot)
            for pane, word in PANES.items():
                app.action_show(pane.removesuffix("-tab") if pane != "log-tab" else "log")
                await pilot.pause()
                assert word in screen_text(app), (pane, screen_text(app))
                app.save_screenshot(f"tui-{pane.removesuffix('-tab')}.svg", str(out))
                assert (out / f"tui-{pane.removesuffix('-tab')}.svg").stat().st_size > 1000

    asyncio.run(scenario())
