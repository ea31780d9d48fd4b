"""Probe sets: labelled harmful and harmless prompts that the refusal direction is learned from,
each line with a language code and an optional `split` (train | val). The packaged sets hold the
same 160 + 160 requests in eight languages (same ids and splits), one file per language."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

from ..errors import InputError
from ..records import iter_jsonl, read_text, require_prompt

MIN_PER_CLASS = 10  # per language and split: fewer cannot validate a layer in that language
PACKAGED_LANGS = ("en", "zh", "es", "fr", "de", "ja", "ru", "ar")


@dataclass
class ProbeSet:
    records: list[dict]
    sha256: str
    source: str

    def split(self, name: str) -> list[dict]:
        return [r for r in self.records if r.get("split", "train") == name]

    @property
    def langs(self) -> list[str]:
        return sorted({r["lang"] for r in self.records})


def _packaged(kind: str, lang: str) -> tuple[str, str]:
    if lang not in PACKAGED_LANGS:
        raise InputError(f"the packaged probe sets have no language {lang!r}; choose from {', '.join(PACKAGED_LANGS)} "
                         f"or give your own with --{kind}")
    name = f"{kind}.jsonl" if lang == "en" else f"{kind}.{lang}.jsonl"
    return resources.files("rass_lite").joinpath(f"data/probe/{name}").read_text(encoding="utf-8"), f"packaged:{name}"


def load_probe_set(path: str | Path | None, kind: str, langs: Sequence[str] | None = None) -> ProbeSet:
    """A probe set from a JSONL file, or the packaged one (`kind` = harmful | harmless), in `langs`
    (default: English for the packaged set, every language of a file)."""
    if path is None:
        parts = [_packaged(kind, lang) for lang in (langs or ("en",))]
    else:
        parts = [(read_text(Path(path)), str(path))]
    records = []
    for text, source in parts:
        for i, r in iter_jsonl(text, source):
            require_prompt(r, source, i)
            r.setdefault("id", f"{kind}-{i}")
            r.setdefault("lang", "en")
            r.setdefault("item", r["id"])
            records.append(r)
    source = ", ".join(s for _, s in parts)
    if langs is not None:
        have = {r["lang"] for r in records}
        missing = [lang for lang in langs if lang not in have]
        if missing:
            raise InputError(f"{source}: no {kind} prompts in {', '.join(missing)} (it has {', '.join(sorted(have))}); "
                             "add them with their \"lang\" code, or leave those languages out of --langs")
        records = [r for r in records if r["lang"] in set(langs)]
    for lang in sorted({r["lang"] for r in records}):
        for name in ("train", "val"):
            n = sum(1 for r in records if r["lang"] == lang and r.get("split", "train") == name)
            if n < MIN_PER_CLASS:
                raise InputError(f"{source}: {n} {kind} prompts in language {lang!r}, split {name!r}; need at least "
                                 f"{MIN_PER_CLASS} to fit and validate in that language "
                                 "(mark about a third of each language's lines with \"split\": \"val\")")
    digest = hashlib.sha256("\n".join(t for t, _ in parts).encode()).hexdigest() if len(parts) > 1 \
        else hashlib.sha256(parts[0][0].encode()).hexdigest()
    return ProbeSet(records, digest, source)


def load_probe_sets(harmful: str | Path | None, harmless: str | Path | None,
                    langs: Sequence[str] | None = None) -> tuple[ProbeSet, ProbeSet]:
    """Both probe sets, as `rass-lite probe` and the TUI read them: in `langs`, else in the languages
    of the given file(s), else the packaged sets in all eight languages; both must hold the same ones."""
    if langs is None:
        given = [load_probe_set(path, kind) for path, kind in ((harmful, "harmful"), (harmless, "harmless")) if path]
        langs = sorted({lang for s in given for lang in s.langs}) if given else list(PACKAGED_LANGS)
    sets = load_probe_set(harmful, "harmful", langs), load_probe_set(harmless, "harmless", langs)
    return sets


BENCH_TRAIN = "morbench-lite:train"  # the source name the extra prompts carry


def with_bench_train(harmful: ProbeSet, harmless: ProbeSet) -> tuple[ProbeSet, ProbeSet]:
    """The probe sets plus MORBench-lite's train-split items (split by item, as the sweep and the
    boundary benchmark split it) in the sets' languages: its harmful requests join the harmful set,
    its benign controls the harmless set. benign_sensitive prompts stay out: they are what the score
    has to place, not a class. All extra prompts are "train": the layer is still validated on the
    probe's own val split. Prompts in the benchmark's own style lift the worst language's held-out
    AUROC (README, method)."""
    from ..bench.datasets import load_set  # here, not at the top: bench imports the probe
    from ..mitigate.split import split_by_item

    langs = set(harmful.langs)
    train, _ = split_by_item(load_set("morbench-lite")[0])
    extra = {"harmful": [], "benign": []}
    for r in train:
        if r["lang"] in langs and r["label"] in extra:
            extra[r["label"]].append({**r, "id": f"bench-{r['id']}", "split": "train", "source": BENCH_TRAIN})
    if not extra["harmful"] or not extra["benign"]:
        raise InputError(f"MORBench-lite has no train items in {', '.join(sorted(langs))}; "
                         f"leave out --with-bench-train or probe in its languages ({', '.join(PACKAGED_LANGS)})")
    return tuple(ProbeSet(s.records + extra[label], hashlib.sha256(f"{s.sha256}+{BENCH_TRAIN}".encode()).hexdigest(),
                          f"{s.source}, {BENCH_TRAIN}")
                 for s, label in ((harmful, "harmful"), (harmless, "benign")))
