"""Served models: a real llama-cpp-python server on 127.0.0.1 (started and stopped here) against the
local backend, a bench killed with its server and resumed, retries, and one clean error per bad reply."""

import threading
import time

import pytest

from rass_lite.backends.served import ServedBackend, ServedError
from rass_lite.bench import BenchSpec, run_bench
from rass_lite.bench.datasets import load_set, select
from rass_lite.models.registry import ModelEntry
from rass_lite.refusal.rules import label_response
from rass_lite.runs import read_results, read_run

from .servers import LlamaServer, ScriptedServer

SMOL = "smollm2-135m-instruct"
MAX_TOKENS = 32


def entry(url: str, model: str = "smol", **extra) -> ModelEntry:
    return ModelEntry(name="served-test", endpoint=url, api_model=model, **extra)


def models_file(tmp_path, url: str, model: str = "smol", extra: str = "") -> str:
    path = tmp_path / "models.toml"
    path.write_text(f'[models.served]\nendpoint = "{url}"\napi_model = "{model}"\n{extra}')
    return str(path)


@pytest.fixture(scope="module")
def server(smol_path):
    srv = LlamaServer(smol_path, "smol").start()
    yield srv
    srv.stop()


def prompts(n_per_label: int = 3) -> list[dict]:
    records, _ = load_set("morbench-lite")
    return select(records, langs=["en", "de"], limit=n_per_label)


def label(prompt, response, lang):
    return label_response(response, lang)


def test_served_answers_get_the_local_labels_and_text(server, smol):
    """Same GGUF, same llama.cpp build, greedy: the server's answers equal the local plain path's."""
    records = prompts(2)
    texts = [r["prompt"] for r in records]
    local = [smol.generate(p, max_tokens=MAX_TOKENS) for p in texts]
    with ServedBackend.from_entry(entry(server.url), concurrency=2) as served:
        remote = served.generate_batch(texts, max_tokens=MAX_TOKENS)
    assert [label_response(t, r["lang"]).label for t, r in zip(remote, records)] == \
           [label_response(t, r["lang"]).label for t, r in zip(local, records)]
    assert remote == local


def test_a_bench_whose_server_is_killed_resumes_to_the_uninterrupted_run(server, tmp_path):
    records = prompts(2)  # 12 prompts
    spec = BenchSpec(model="served-test", model_sha256=f"{server.url}#smol", set="morbench-lite", set_sha256="-",
                     n=len(records), max_tokens=16)
    with ServedBackend.from_entry(entry(server.url), concurrency=2) as served:
        run_bench(served, records, tmp_path / "whole", spec, label=label)

    cut = tmp_path / "cut"

    def kill_after_four_records():
        while len(read_results(cut)) < 4:
            time.sleep(0.02)
        server.stop()

    killer = threading.Thread(target=kill_after_four_records)
    killer.start()
    with ServedBackend.from_entry(entry(server.url), concurrency=2, retries=1, backoff=0.05) as served:
        with pytest.raises(ServedError, match="cannot connect|dropped"):
            run_bench(served, records, cut, spec, label=label)
    killer.join()
    assert read_run(cut).status == "error" and 4 <= len(read_results(cut)) < len(records)
    server.start()
    with ServedBackend.from_entry(entry(server.url), concurrency=2) as served:
        _, status = run_bench(served, records, cut, spec, label=label)
    assert status == "success"
    assert read_results(cut) == read_results(tmp_path / "whole")
    lines = (cut / "results.jsonl").read_text().splitlines()
    assert len(lines) == len(records)  # nothing lost, nothing written twice


def test_500_twice_then_200_is_retried():
    with ScriptedServer([500, 503, "ok"]) as srv:
        backend = ServedBackend.from_entry(entry(srv.url, "scripted"), backoff=0.01)
        assert backend.generate("hello") == "answer to: hello"
        assert srv.requests == 3


@pytest.mark.parametrize("script, words", [
    (["garbage"], "not JSON"),
    (["cut"], "dropped mid-reply"),
    ([500], "500"),
    (["stall"], "no answer within 1 s"),
    ([422], "answered 422"),
])
def test_a_bad_reply_is_one_clear_error(script, words):
    with ScriptedServer(script) as srv:
        backend = ServedBackend.from_entry(entry(srv.url, "scripted"), backoff=0.01, retries=1, timeout=1.0)
        with pytest.raises(ServedError, match=words):
            backend.generate("hello")


def test_unreachable_port_is_one_clean_error(cli, clean_error, tmp_path):
    from .servers import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    clean_error(cli("chat", "-m", "served", "--models", models_file(tmp_path, url), "hi"), "cannot connect", url)


def test_401_names_the_key_variable(cli, clean_error, tmp_path, monkeypatch):
    monkeypatch.setenv("RASS_TEST_KEY", "wrong")
    with ScriptedServer(["ok"]) as srv:
        srv.models = ()
        srv.script = [401]
        file = models_file(tmp_path, srv.url, "scripted", 'api_key_env = "RASS_TEST_KEY"\n')
        clean_error(cli("chat", "-m", "served", "--models", file, "hi"), "401", "$RASS_TEST_KEY")


def test_401_from_a_real_server_and_the_key_from_the_environment(smol_path, tmp_path, cli, clean_error, monkeypatch):
    srv = LlamaServer(smol_path, "smol", api_key="sekret").start()
    try:
        file = models_file(tmp_path, srv.url, extra='api_key_env = "RASS_TEST_KEY"\n')
        monkeypatch.setenv("RASS_TEST_KEY", "wrong")
        clean_error(cli("chat", "-m", "served", "--models", file, "hi"), "401", "$RASS_TEST_KEY")
        monkeypatch.setenv("RASS_TEST_KEY", "sekret")
        code, out, err = cli("chat", "-m", "served", "--models", file, "--max-tokens", "8", "Name a colour.")
        assert code == 0 and out.strip(), err
        monkeypatch.delenv("RASS_TEST_KEY")
        clean_error(cli("chat", "-m", "served", "--models", file, "hi"), "RASS_TEST_KEY", "not set")
    finally:
        srv.stop()


def test_a_model_the_server_does_not_serve(cli, clean_error, tmp_path):
    with ScriptedServer(["ok"], models=("other-model",)) as srv:
        clean_error(cli("chat", "-m", "served", "--models", models_file(tmp_path, srv.url, "nope"), "hi"),
                    "does not serve model 'nope'", "other-model")


@pytest.mark.parametrize("argv", [
    ["probe", "--out", "{tmp}/p"],
    ["score", "{tmp}/in.txt", "--probe", "{tmp}/p", "--out", "{tmp}/o.jsonl"],
    ["capture", "{tmp}/in.txt", "--out", "{tmp}/c.npz"],
    ["chat", "--cvec", "{tmp}/v.gguf", "hi"],
    ["bench", "--cvec", "{tmp}/v.gguf", "--limit", "1", "--out", "{tmp}/b"],
])
def test_steps_that_need_activations_refuse_a_served_model(argv, cli, clean_error, tmp_path):
    import numpy as np

    from rass_lite.vectors import ControlVector

    from rass_lite.backends.fake import FakeBackend
    from rass_lite.probe import load_probe_set, run_probe

    (tmp_path / "in.txt").write_text("hi\n")
    ControlVector({1: np.ones(4, np.float32)}, "llama").save(tmp_path / "v.gguf")
    if argv[0] == "score":
        run_probe(FakeBackend(), load_probe_set(None, "harmful"), load_probe_set(None, "harmless"), tmp_path / "p",
                  behaviour=False)
    file = models_file(tmp_path, "http://127.0.0.1:9/v1")
    args = [a.format(tmp=tmp_path) for a in argv] + ["-m", "served", "--models", file]
    clean_error(cli(*args), "served model", "local GGUF")
    assert not (tmp_path / "b").exists() and not (tmp_path / "c.npz").exists() and not (tmp_path / "o.jsonl").exists()
