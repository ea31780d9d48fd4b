"""Shared fixtures: real models fetched by our own fetch code (once, into the user cache or
$RASS_LITE_CACHE), engines loaded once per session, and helpers to run the CLI in-process."""

from __future__ import annotations

import pytest

from rass_lite.cli import main
from rass_lite.models.fetch import ensure_model
from rass_lite.models.registry import load_registry

DEFAULT = "qwen2.5-coder-0.5b-instruct"
SMOL = "smollm2-135m-instruct"
GEMMA = "gemma-3-270m"


def model_path(name: str):
    return ensure_model(load_registry().get(name))


@pytest.fixture(scope="session")
def qwen_path():
    return model_path(DEFAULT)


@pytest.fixture(scope="session")
def smol_path():
    return model_path(SMOL)


@pytest.fixture(scope="session")
def qwen(qwen_path):
    from rass_lite.backends.llama import LlamaBackend

    with LlamaBackend.load(DEFAULT) as engine:
        yield engine


@pytest.fixture(scope="session")
def smol(smol_path):
    from rass_lite.backends.llama import LlamaBackend

    with LlamaBackend.load(SMOL) as engine:
        yield engine


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch, tmp_path_factory):
    """No test reads the developer's own models.toml."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    monkeypatch.delenv("RASS_LITE_MODELS", raising=False)
    monkeypatch.delenv("RASS_LITE_DEBUG", raising=False)


def assert_clean_error(result, *words):
    """A user error: exit 1, one `error: ...` line on stderr naming `words`, no traceback."""
    code, out, err = result
    assert code == 1, (code, out, err)
    assert "Traceback" not in err and err.startswith("error: ") and err.count("\n") == 1, err
    for word in words:
        assert word in err, err


@pytest.fixture
def clean_error():
    return assert_clean_error


@pytest.fixture
def cli(capsys):
    """Run `rass-lite ARGS...` in-process; returns (exit code, stdout, stderr)."""

    def run(*argv: str):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture(scope="session")
def qwen_probe(tmp_path_factory, qwen):
    """`rass-lite probe` on the default model with the packaged sets and behaviour calibration (~5 min)."""
    from rass_lite.probe import Probe, load_probe_set, run_probe

    folder = tmp_path_factory.mktemp("probe") / "qwen"
    run_probe(qwen, load_probe_set(None, "harmful"), load_probe_set(None, "harmless"), folder)
    return Probe.load(folder), folder
