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
