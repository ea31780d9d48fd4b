"""Probe pane on the fake backend: build with progress, the layer chart with the chosen layer,
refusal counts, the boundary histogram, export, and loading the folder again."""

import asyncio

from textual.widgets import Checkbox, Input, Static

from rass_lite.probe import load_probe_set
from rass_lite.records import write_jsonl
from rass_lite.vectors import ControlVector
from tui.screens.probe import ProbePane

from .test_tui_helpers import fake_app, settle, text_of


async def build_on_fake(app, pilot, tmp_path, bench_train: bool = False) -> int:
    """Build a probe in the pane from the packaged harmful set made recognisable to the fake model;
    returns the number of harmful probe prompts."""
    harmful = load_probe_set(None, "harmful")
    write_jsonl(tmp_path / "harmful.jsonl", [{**r, "prompt": r["prompt"] + " (bomb)"} for r in harmful.records])
    await settle(app, pilot)
    app.action_show("probe")
    app.query_one("#probe-harmful", Input).value = str(tmp_path / "harmful.jsonl")
    app.query_one("#probe-out", Input).value = str(tmp_path / "probe")
    app.query_one("#probe-bench-train", Checkbox).value = bench_train
    app.query_one(ProbePane).build()
    await settle(app, pilot)
    return len(harmful.records)


def test_build_chart_export_and_load(tmp_path):
    async def scenario():
        app = fake_app(tmp_path)
        async with app.run_test(size=(100, 30)) as pilot:
            await build_on_fake(app, pilot, tmp_path)
            assert app.probe is not None and app.probe_dir == str(tmp_path / "probe")
            chart = text_of(app.query_one("#probe-chart", Static))
            assert f"{app.probe.layer:>3} " in chart and "◀ chosen" in chart and chart.count("\n") >= 8
            summary = text_of(app.query_one("#probe-summary", Static))
            assert "refused: harmful" in summary
            assert "boundary" in text_of(app.query_one("#probe-hist", Static))
            app.query_one("#probe-cvec", Input).value = str(tmp_path / "cv.gguf")
            await pilot.click("#probe-export")
            await pilot.pause()
            assert ControlVector.load(tmp_path / "cv.gguf").directions
            app.probe = None
            await pilot.click("#probe-load")
            await pilot.pause()
            assert app.probe is not None and "after a build" in text_of(app.query_one("#probe-hist", Static))

    asyncio.run(scenario())


def test_build_with_bench_train_fits_on_the_benchmark_items_too(tmp_path):
    from rass_lite.probe.sets import BENCH_TRAIN

    async def scenario():
        app = fake_app(tmp_path)
        async with app.run_test(size=(100, 30)) as pilot:
            n_harmful = await build_on_fake(app, pilot, tmp_path, bench_train=True)
            assert app.probe is not None
            sources = app.probe.meta["datasets"]
            assert BENCH_TRAIN in sources["harmful"]["source"] and sources["harmful"]["n"] > n_harmful

    asyncio.run(scenario())
