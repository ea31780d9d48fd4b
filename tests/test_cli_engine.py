"""`rass-lite models|chat|capture` end to end, and one clear error for each kind of bad input."""

import json

import numpy as np
import pytest

from rass_lite.vectors import ControlVector

SMOL = "smollm2-135m-instruct"




def test_models_list_and_info(cli, smol_path):
    code, out, _ = cli("models", "list", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0 and rows["qwen2.5-coder-0.5b-instruct"]["default"] and rows[SMOL]["cached"]
    code, out, _ = cli("models", "info", SMOL, "--json")
    info = json.loads(out)
    assert code == 0 and (info["n_layers"], info["n_embd"], info["chat_template"]) == (30, 576, True)


def test_models_fetch_prints_the_path(cli, smol_path):
    code, out, _ = cli("models", "fetch", SMOL)
    assert code == 0 and out.strip() == str(smol_path)


def test_chat_and_cvec_changes_the_answer(cli, tmp_path, smol):
    code, plain, _ = cli("chat", "-m", SMOL, "--max-tokens", "20", "Name a colour.")
    assert code == 0 and plain.strip()
    rng = np.random.default_rng(1)
    vector = ControlVector({n: rng.standard_normal(smol.n_embd).astype(np.float32) * 4 for n in range(5, 11)}, "llama")
    vector.save(tmp_path / "v.gguf")
    code, steered, _ = cli("chat", "-m", SMOL, "--max-tokens", "20", "--cvec", tmp_path / "v.gguf",
                           "--scale", "1.0", "--layers", "5-10", "Name a colour.")
    assert code == 0 and steered != plain
    # the vector was cleared afterwards: the same engine answers as before
    assert smol.generate("Name a colour.", max_tokens=20).strip() == plain.strip()


def test_capture_writes_npz(cli, tmp_path, smol_path):
    src = tmp_path / "p.jsonl"
    src.write_text('{"id": "a", "prompt": "Hi there", "lang": "en"}\n{"id": "b", "prompt": "¿Qué hora es?", "lang": "es"}\n')
    code, _, err = cli("capture", "-m", SMOL, "--layers", "3-5", src, "--out", tmp_path / "h.npz")
    assert code == 0, err
    data = np.load(tmp_path / "h.npz")
    assert data["hidden"].shape == (2, 3, 576) and list(data["layers"]) == [3, 4, 5]
    assert list(data["ids"]) == ["a", "b"]
    meta = json.loads(str(data["metadata"]))
    assert meta["model_sha256"].startswith("b179c952") and meta["langs"] == ["en", "es"]


@pytest.fixture
def tiny_ctx_models(tmp_path, smol_path):
    path = tmp_path / "m.toml"
    path.write_text(f'[models.tiny]\npath = "{smol_path}"\nn_ctx = 64\n')
    return path


def test_bad_inputs_give_one_clear_error(cli, tmp_path, smol_path, tiny_ctx_models, clean_error):
    clean_error(cli("chat", "-m", tmp_path / "missing.gguf", "hi"), "not found")
    (tmp_path / "fake.gguf").write_text("not a model")
    clean_error(cli("chat", "-m", tmp_path / "fake.gguf", "hi"), "not a GGUF")
    clean_error(cli("chat", "-m", "no-such-model", "hi"), "unknown model", "known models")
    clean_error(cli("chat", "-m", SMOL, "   "), "prompt is empty")
    clean_error(cli("chat", "--models", tiny_ctx_models, "-m", "tiny", "word " * 80),
                       "tokens but the context holds", "n_ctx")
    (tmp_path / "bad.toml").write_text("[models.x\n")
    clean_error(cli("models", "list", "--models", tmp_path / "bad.toml"), str(tmp_path / "bad.toml"), "line 1")


def test_bad_control_vectors(cli, tmp_path, smol_path, clean_error):
    ControlVector({3: np.ones(100, np.float32)}, "llama").save(tmp_path / "wide.gguf")
    clean_error(cli("chat", "-m", SMOL, "--cvec", tmp_path / "wide.gguf", "hi"), "n_embd 576")
    ControlVector({40: np.ones(576, np.float32)}, "llama").save(tmp_path / "deep.gguf")
    clean_error(cli("chat", "-m", SMOL, "--cvec", tmp_path / "deep.gguf", "hi"), "block 40", "1..29")
    (tmp_path / "junk.gguf").write_bytes(b"junk")
    clean_error(cli("chat", "-m", SMOL, "--cvec", tmp_path / "junk.gguf", "hi"), "junk.gguf")


def test_chat_without_chat_template(cli, clean_error):
    clean_error(cli("chat", "-m", "gemma-3-270m", "hi"), "no chat template", "chat_template")


def test_capture_failure_leaves_no_output(cli, tmp_path, tiny_ctx_models, clean_error):
    src = tmp_path / "p.txt"
    src.write_text("short one\n" + "long " * 80 + "\n")
    out = tmp_path / "h.npz"
    clean_error(cli("capture", "--models", tiny_ctx_models, "-m", "tiny", src, "--out", out), "tokens")
    assert not out.exists() and not list(tmp_path.glob(".h.npz*"))


def test_capture_input_errors(cli, tmp_path, smol_path, clean_error):
    (tmp_path / "e.txt").write_text("\n\n")
    clean_error(cli("capture", "-m", SMOL, tmp_path / "e.txt", "--out", tmp_path / "o.npz"), "no prompts")
    (tmp_path / "b.jsonl").write_text('{"prompt": "ok"}\n{"prompt": ""}\n')
    clean_error(cli("capture", "-m", SMOL, tmp_path / "b.jsonl", "--out", tmp_path / "o.npz"), "b.jsonl:2")
    (tmp_path / "j.jsonl").write_text('{"prompt": "ok"}\n{oops\n')
    clean_error(cli("capture", "-m", SMOL, tmp_path / "j.jsonl", "--out", tmp_path / "o.npz"), "j.jsonl:2", "invalid JSON")
