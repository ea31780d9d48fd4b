import pytest

from rass_lite.errors import RegistryError
from rass_lite.models.registry import load_registry


def test_packaged_registry_has_the_three_models_and_default():
    registry = load_registry()
    assert registry.default == "qwen2.5-coder-0.5b-instruct"
    assert {"qwen2.5-coder-0.5b-instruct", "smollm2-135m-instruct", "gemma-3-270m"} <= set(registry.entries)
    qwen = registry.get(None)
    assert len(qwen.pypi) == 6 and qwen.sha256.startswith("1d9614")


def test_user_file_merges_over_default(tmp_path, monkeypatch):
    own = tmp_path / "my.gguf"
    (tmp_path / "models.toml").write_text('default = "mine"\n[models.mine]\npath = "my.gguf"\nn_ctx = 512\n')
    monkeypatch.setenv("RASS_LITE_MODELS", str(tmp_path / "models.toml"))
    registry = load_registry()
    assert registry.default == "mine"
    assert registry.get(None).path == own and registry.get(None).n_ctx == 512
    assert "smollm2-135m-instruct" in registry.entries  # built-ins stay


def test_models_file_argument_wins_over_env(tmp_path, monkeypatch):
    (tmp_path / "a.toml").write_text('[models.x]\npath = "/a.gguf"\n')
    (tmp_path / "b.toml").write_text('[models.x]\npath = "/b.gguf"\n')
    monkeypatch.setenv("RASS_LITE_MODELS", str(tmp_path / "a.toml"))
    assert str(load_registry(tmp_path / "b.toml").get("x").path) == "/b.gguf"


def test_user_config_dir_file_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "rass-lite").mkdir()
    (tmp_path / "rass-lite" / "models.toml").write_text('[models.cfg]\nurl = "https://example.org/m.gguf"\n')
    assert load_registry().get("cfg").url == "https://example.org/m.gguf"


@pytest.mark.parametrize(
    "text, line, words",
    [
        ('[models.a]\npath = "x.gguf"\nn_ctx = \n', 3, "invalid models.toml"),
        ('\n\n[models.a]\npath = "x.gguf"\nnctx = 5\n', 3, "unknown key 'nctx'"),
        ('[models.a]\npath = "x.gguf"\nurl = "https://x"\n', 1, "has both 'path' and 'url'; keep one"),
        ('[models.a]\npath = "x.gguf"\nendpoint = "http://127.0.0.1:8080/v1"\napi_model = "m"\n', 1,
         "has both 'path' and 'endpoint'; keep one"),
        ('[models.a]\nn_ctx = 5\n', 1, "needs exactly one of path, url, pypi or endpoint"),
        ('[models.a]\nendpoint = "http://127.0.0.1:8080/v1"\n', 1, "needs api_model"),
        ('[models.a]\nendpoint = "http://h/v1"\napi_model = "m"\napi_key_env = "sk-abc123-secret"\n', 1,
         "is the NAME of an environment variable"),
        ('\n[models.a]\npath = "x.gguf"\nn_ctx = "big"\n', 2, "n_ctx must be of type int"),
        ('[models.a]\npath = "x.gguf"\nsha256 = "abc"\n', 1, "sha256 must be 64 hex digits"),
    ],
)
def test_invalid_models_toml_names_file_and_line(tmp_path, text, line, words):
    path = tmp_path / "models.toml"
    path.write_text(text)
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    message = str(info.value)
    assert str(path) in message and words in message
    assert f"line {line}" in message or f"{path}:{line}" in message


def test_unknown_model_lists_known_names():
    with pytest.raises(RegistryError, match="known models: gemma-3-270m, qwen2.5-coder-0.5b-instruct, smollm2"):
        load_registry().get("llama-9000")


def test_a_gguf_path_needs_no_entry(tmp_path):
    entry = load_registry().get(str(tmp_path / "own.gguf"))
    assert entry.path == tmp_path / "own.gguf" and entry.name == "own"
