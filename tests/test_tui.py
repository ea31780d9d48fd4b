"""The Textual app driven by a pilot on a real model: load, answer, label, quick-check progress."""

import asyncio

from textual.widgets import Button, Input, RichLog

from tui.app import RassApp


def log_text(app) -> str:
    return "\n".join(line.text for line in app.query_one("#log", RichLog).lines)


def test_tui_loads_a_model_and_answers_a_prompt(smol_path):
    async def scenario():
        app = RassApp(model="smollm2-135m-instruct")
        async with app.run_test(size=(120, 40)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert "ready (30 layers" in log_text(app)
            assert not app.query_one("#answer", Button).disabled
            assert app.query_one("#score", Button).disabled  # no probe loaded
            app.query_one("#prompt", Input).value = "Name a colour."
            await pilot.click("#answer")
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            text = log_text(app)
            assert "> Name a colour." in text and "first-token P(refuse)" in text
            assert any(label in text for label in ("comply", "partial", "refuse"))

    asyncio.run(scenario())


def test_tui_reports_a_bad_probe_folder_in_the_app(smol_path, tmp_path):
    async def scenario():
        app = RassApp(model="smollm2-135m-instruct", probe=str(tmp_path / "missing"))
        async with app.run_test(size=(120, 40)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.query_one("#answer", Button).disabled  # nothing half-loaded
            assert any("no probe.json" in n.message for n in app._notifications)

    asyncio.run(scenario())
