"""Bench pane on the fake backend: start, stop, find the run resumable, resume it, open it, compare."""

import asyncio

from textual.widgets import Checkbox, DataTable, Input, Select, Static

from rass_lite.runs import list_runs
from tui.screens.bench import BenchPane

from .test_tui_helpers import fake_app, settle, text_of


def test_start_stop_resume_open_and_compare(tmp_path):
    async def scenario():
        app = fake_app(tmp_path, delay_s=0.02)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            app.action_show("bench")
            app.query_one("#bench-langs", Input).value = "en,zh"
            app.query_one("#bench-limit", Input).value = "4"
            app.query_one("#bench-method", Select).value = "auto"  # the rules: the fake has no states to probe
            await pilot.pause()
            app.query_one(BenchPane).run_bench()
            live = app.query_one("#bench-live", DataTable)
            for _ in range(200):
                await pilot.pause(0.05)
                if live.row_count >= 3:
                    break
            await pilot.press("ctrl+x")
            await settle(app, pilot)
            (run,) = list_runs(tmp_path / "runs")
            assert run.status == "cancelled" and 3 <= run.n_done < run.n_total == 24
            runs = app.query_one("#runs-table", DataTable)
            assert runs.row_count == 1 and "cancelled" in runs.get_row_at(0)
            app.query_one(BenchPane).run_bench()  # the same options: it resumes
            await settle(app, pilot)
            (run,) = list_runs(tmp_path / "runs")
            assert run.status == "success" and run.n_done == 24
            assert "overrefusal" in text_of(app.query_one("#bench-summary", Static))
            # a second run (other limit) to compare with
            app.query_one("#bench-limit", Input).value = "2"
            app.query_one("#bench-quick", Checkbox).value = False
            app.query_one(BenchPane).run_bench()
            await settle(app, pilot)
            assert len(list_runs(tmp_path / "runs")) == 2
            app.query_one("#bench-tabs").active = "bench-runs-tab"
            await pilot.pause()
            runs.move_cursor(row=1)
            await pilot.click("#runs-open")
            await pilot.pause()
            assert "harmful refused" in text_of(app.query_one("#runs-detail", Static))
            await pilot.click("#runs-a")
            runs.move_cursor(row=0)
            await pilot.click("#runs-b")
            await pilot.click("#runs-compare")
            await pilot.pause()
            assert "McNemar" in text_of(app.query_one("#runs-detail", Static))

    asyncio.run(scenario())
