"""Mitigate pane on the fake backend: a global sweep and its trade-off curve with the recommendation."""

import asyncio

from textual.widgets import Input, Select, Static

from tui.screens.mitigate import MitigatePane

from .test_tui_helpers import fake_app, fake_probe, settle, text_of


def test_sweep_shows_the_trade_off(tmp_path):
    fake_probe(tmp_path / "probe")

    async def scenario():
        app = fake_app(tmp_path, probe=str(tmp_path / "probe"))
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            app.action_show("mitigate")
            app.query_one("#mit-mode", Select).value = "global"
            app.query_one("#mit-langs", Input).value = "en"
            app.query_one("#mit-scales", Input).value = "0,0.5,1"
            app.query_one("#mit-limit", Input).value = "3"
            app.query_one(MitigatePane).run()
            await settle(app, pilot)
            chart = text_of(app.query_one("#mit-chart", Static))
            assert all(f"{name:>3} |" in chart for name in ("0", "0.5", "1")), chart
            assert "recommended" in chart or "no setting cut overrefusal" in chart

    asyncio.run(scenario())
