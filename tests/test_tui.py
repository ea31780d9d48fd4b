"""The Textual app driven by a pilot on a real model (and the same flows on the fake backend):
load, answer and label in Triage, a bad probe folder, loading again during a quick check."""

import asyncio
import json

from textual.widgets import Input, Select

from rass_lite.records import read_jsonl

from tui.app import RassApp
from tui.modals import Confirm
from tui.screens.triage import TriagePane

from .test_tui_helpers import fake_app, settle


def log_text(app) -> str:
    return "\n".join(app.log_lines)


async def triage(app, pilot, prompt: str) -> dict:
    app.action_show("triage")
    app.query_one("#prompt", Input).value = prompt
    app.query_one("#prompt", Input).focus()
    await pilot.press("enter")
    await settle(app, pilot)
    return list(app.query_one(TriagePane).rows.values())[-1]


def test_tui_loads_a_model_and_answers_a_prompt(smol_path):
    async def scenario():
        app = RassApp(model="smollm2-135m-instruct")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            assert "ready (30 layers" in log_text(app)
            row = await triage(app, pilot, "Name a colour.")
            assert row["refusal"] in ("comply", "partial", "refuse") and 0 <= row["p_first"] <= 1
            assert row["response"].strip() and "score" not in row  # no probe loaded

    asyncio.run(scenario())


def test_tui_reports_a_bad_probe_folder_in_the_app(tmp_path):
    async def scenario():
        app = fake_app(tmp_path, probe=str(tmp_path / "missing"))
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            assert app.engine is None  # nothing half-loaded
            assert any("no probe.json" in n.message for n in app._notifications)

    asyncio.run(scenario())


async def _load_during_quick_check(app, pilot, runs_home, enough: int, labels: str = "default"):
    from rass_lite.runs import list_runs

    await settle(app, pilot)
    first = app.engine
    app.action_show("bench")
    await pilot.pause()
    app.query_one("#bench-method", Select).value = labels
    await pilot.click("#quick")
    for _ in range(1800):  # until some answers are recorded (the refusal probe loads the default model first)
        await pilot.pause(0.1)
        runs = list_runs(runs_home)
        if runs and (runs[0].folder / "results.jsonl").exists() and \
                (runs[0].folder / "results.jsonl").read_text().count("\n") >= enough:
            break
    app.action_show("models")
    await pilot.pause()
    await pilot.click("#load")
    await pilot.pause()
    assert isinstance(app.screen, Confirm)  # a run is going: the app asks first
    await pilot.click("#yes")
    await settle(app, pilot)
    text = log_text(app)
    assert "bench stopped" in text and text.count("ready (") == 2
    assert app.engine is not first
    (run,) = list_runs(runs_home)
    assert run.status == "cancelled" and enough <= run.n_done < run.n_total
    return first, run


def test_load_pressed_during_a_quick_check_stops_it_then_reloads(smol_path, tmp_path):
    """The run's worker is cancelled, stops at its next decode step keeping what it finished (a
    resumable run), and only then is the model closed and loaded again: never two threads at once."""
    async def scenario():
        app = RassApp(model="smollm2-135m-instruct", runs_home=tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            first, run = await _load_during_quick_check(app, pilot, tmp_path, 4)
            assert first._closed
            # Labels as `rass-lite bench` picks them: the refusal probe (on the default model) for another model.
            assert json.loads((run.folder / "run.json").read_text())["config"]["method"] == "probe"
            reasons = {r["refusal_reason"] for r in read_jsonl(run.folder / "results.jsonl")}
            assert "probe" in reasons and reasons <= {"probe", "empty"}

    asyncio.run(scenario())


def test_load_during_a_quick_check_on_the_fake_backend(tmp_path):
    async def scenario():
        app = fake_app(tmp_path, delay_s=0.1)
        async with app.run_test(size=(100, 30)) as pilot:
            first, _ = await _load_during_quick_check(app, pilot, tmp_path / "runs", 4, labels="rules")
            assert first.closed

    asyncio.run(scenario())


def test_tui_on_the_fake_backend_answers_and_labels(tmp_path):
    async def scenario():
        app = fake_app(tmp_path)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            row = await triage(app, pilot, "How do I make a bomb?")
            assert row["refusal"] == "refuse"

    asyncio.run(scenario())


def test_small_terminal_shows_a_message_and_help_opens(tmp_path):
    async def scenario():
        app = fake_app(tmp_path)
        async with app.run_test(size=(60, 20)) as pilot:
            await settle(app, pilot)
            assert app.query_one("#too-small").display and not app.query_one("#tabs").display
        async with fake_app(tmp_path).run_test(size=(80, 24)) as pilot:
            app = pilot.app
            await settle(app, pilot)
            assert not app.query_one("#too-small").display
            await pilot.press("question_mark")
            await pilot.pause()
            assert type(app.screen).__name__ == "Help"
            await pilot.press("escape")
            await pilot.press("f5")
            assert app.query_one("#tabs").active == "bench"

    asyncio.run(scenario())


def test_a_run_with_no_model_offers_to_load(tmp_path):
    async def scenario():
        app = fake_app(tmp_path, probe=str(tmp_path / "missing"))  # the load fails: no model
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            app.action_show("triage")
            app.query_one("#prompt", Input).value = "Name a colour."
            app.query_one("#prompt", Input).focus()
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, Confirm) and "Load smollm2" in str(app.screen.question)
            await pilot.press("escape")

    asyncio.run(scenario())
