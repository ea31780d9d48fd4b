"""Probe sets in several languages: loading, and one clear error per bad input (no model)."""

import json

import pytest

from rass_lite.errors import InputError
from rass_lite.probe import load_probe_set
from rass_lite.probe.sets import PACKAGED_LANGS


def test_packaged_sets_hold_the_same_requests_in_eight_languages():
    harmful = load_probe_set(None, "harmful", PACKAGED_LANGS)
    assert harmful.langs == sorted(PACKAGED_LANGS) and len(harmful.records) == 8 * 160
    by_lang = {lang: {r["item"]: r["split"] for r in harmful.records if r["lang"] == lang} for lang in PACKAGED_LANGS}
    assert all(by_lang[lang] == by_lang["en"] for lang in PACKAGED_LANGS)  # same items, same splits
    assert load_probe_set(None, "harmful").langs == ["en"]  # the library default stays English
    assert load_probe_set(None, "harmful", ["en", "zh"]).sha256 != load_probe_set(None, "harmful").sha256


def test_unknown_packaged_language():
    with pytest.raises(InputError, match="no language 'xx'"):
        load_probe_set(None, "harmless", ["en", "xx"])


def _write(path, langs_counts):
    lines = []
    for lang, (train, val) in langs_counts.items():
        for i in range(train + val):
            lines.append(json.dumps({"id": f"{lang}-{i}", "prompt": f"prompt {i}", "lang": lang,
                                     "split": "train" if i < train else "val"}))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_file_with_one_language_where_several_are_asked(tmp_path):
    path = _write(tmp_path / "h.jsonl", {"en": (20, 10)})
    with pytest.raises(InputError, match=r"no harmful prompts in zh, fr \(it has en\)"):
        load_probe_set(path, "harmful", ["en", "zh", "fr"])
    assert load_probe_set(path, "harmful", ["en"]).langs == ["en"]


def test_a_language_with_too_few_prompts_to_validate(tmp_path):
    path = _write(tmp_path / "h.jsonl", {"en": (20, 10), "de": (20, 4)})
    with pytest.raises(InputError, match=r"4 harmful prompts in language 'de', split 'val'"):
        load_probe_set(path, "harmful")
    assert load_probe_set(path, "harmful", ["en"]).langs == ["en"]


def test_both_sets_follow_the_languages_of_a_given_file(tmp_path):
    """A harmful file in English with the packaged harmless set: both in English (the CLI and TUI rule)."""
    from rass_lite.probe.sets import load_probe_sets

    path = _write(tmp_path / "h.jsonl", {"en": (20, 10)})
    harmful, harmless = load_probe_sets(path, None)
    assert harmful.langs == harmless.langs == ["en"]
    harmful, harmless = load_probe_sets(None, None)
    assert harmful.langs == harmless.langs == sorted(PACKAGED_LANGS)


def test_bench_train_items_join_the_probe_sets_without_a_test_item():
    from rass_lite.bench.datasets import load_set
    from rass_lite.mitigate.split import split_by_item
    from rass_lite.probe.sets import BENCH_TRAIN, load_probe_sets, with_bench_train

    harmful, harmless = load_probe_sets(None, None, ["en", "fr"])
    h2, b2 = with_bench_train(harmful, harmless)
    _, test = split_by_item(load_set("morbench-lite")[0])
    test_items = {r["item"] for r in test}
    for before, after, label in ((harmful, h2, "harmful"), (harmless, b2, "benign")):
        assert after.records[:len(before.records)] == before.records  # the probe prompts first, unchanged
        extra = after.records[len(before.records):]
        assert extra and {r["label"] for r in extra} == {label} and {r["lang"] for r in extra} == {"en", "fr"}
        assert {r["split"] for r in extra} == {"train"} and {r["source"] for r in extra} == {BENCH_TRAIN}
        assert not {r["item"] for r in extra} & test_items
        assert after.split("val") == before.split("val")  # the layer is still validated on probe prompts only
        assert after.sha256 != before.sha256 and BENCH_TRAIN in after.source
    ids = [r["id"] for r in h2.records + b2.records]
    assert len(ids) == len(set(ids))


def test_bench_train_items_in_a_language_the_benchmark_lacks(tmp_path, cli, clean_error):
    for kind in ("harmful", "harmless"):
        rows = [{"prompt": f"{kind} {i}", "lang": "it", "split": "val" if i % 3 == 0 else "train"} for i in range(40)]
        (tmp_path / f"{kind}.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    # the sets are read before any model is loaded
    clean_error(cli("probe", "--harmful", tmp_path / "harmful.jsonl", "--harmless", tmp_path / "harmless.jsonl",
                    "--with-bench-train", "--out", tmp_path / "p"), "no train items in it", "--with-bench-train")
