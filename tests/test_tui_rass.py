"""RASS pane on the fake backend: a templates-only run, the live table, the histogram with the band,
and the rows that need review going to Triage."""

import asyncio

from textual.widgets import DataTable, Input, Static

from tui.screens.rass import RassPane
from tui.screens.triage import TriagePane

from .test_tui_helpers import fake_app, fake_probe, settle, text_of


def test_rass_run_and_review_in_triage(tmp_path):
    fake_probe(tmp_path / "probe")

    async def scenario():
        app = fake_app(tmp_path, probe=str(tmp_path / "probe"))
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            app.action_show("rass")
            for name, value in (("langs", "en,zh"), ("n-per-category", "1"), ("rounds", "0"), ("n", "6"), ("band", "-50,50")):
                app.query_one(f"#rass-{name}", Input).value = value
            pane = app.query_one(RassPane)
            pane.run()
            await settle(app, pilot)
            assert pane.result is not None and pane.result.selected, (app.log_lines, [n.message for n in app._notifications])
            assert app.query_one("#rass-table", DataTable).row_count == len(pane.result.pool.candidates)
            assert "band low" in text_of(app.query_one("#rass-hist", Static))
            review = [c for c in pane.result.selected if c.get("needs_review")]
            if review:
                pane.review()
                await settle(app, pilot)
                rows = app.query_one(TriagePane).rows
                assert len(rows) == len(review) and all(r["mark"] == "review" for r in rows.values())
                assert app.query_one("#tabs").active == "triage"

    asyncio.run(scenario())
