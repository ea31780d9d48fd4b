"""Plain-data I/O: prompt inputs, JSONL records, atomic writes.

Every prompt record is a dict with at least `id`, `prompt` and `lang` (a language code; "en" when the
input does not say). Errors name the file and line.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from .errors import InputError


def read_prompts(source: str | Path, default_lang: str = "en") -> list[dict]:
    """Prompt records from `.txt` (one prompt a line), `.jsonl` (field `prompt`, optional `id`, `lang`)
    or `-` (stdin, one prompt a line). Blank text lines are skipped; an empty `prompt` field is an error."""
    if str(source) == "-":
        lines = sys.stdin.read().splitlines()
        return _text_records(lines, "<stdin>", default_lang)
    path = Path(source)
    text = read_text(path)
    if path.suffix == ".jsonl":
        records = []
        for line_no, record in iter_jsonl(text, path):
            require_prompt(record, str(path), line_no)
            record.setdefault("id", f"{path.stem}-{line_no}")
            record["id"] = str(record["id"])
            record.setdefault("lang", default_lang)
            records.append(record)
    else:
        records = _text_records(text.splitlines(), str(path), default_lang)
    if not records:
        raise InputError(f"{path}: no prompts found; give one prompt a line (.txt) or JSON lines with \"prompt\" (.jsonl)")
    ids = [r["id"] for r in records]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise InputError(f"{path}: id {dup!r} appears more than once; ids must be unique")
    return records


def _text_records(lines: list[str], where: str, lang: str) -> list[dict]:
    return [
        {"id": f"{Path(where).stem}-{n}", "prompt": line.strip(), "lang": lang}
        for n, line in enumerate(lines, start=1)
        if line.strip()
    ]


def read_text(path: Path) -> str:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"file not found: {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: not valid UTF-8 (byte {exc.start}); save the file as UTF-8") from None


def iter_jsonl(text: str, where: str | Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line; one clear error on the first bad line."""
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}:{line_no}: invalid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(record, dict):
            raise InputError(f"{where}:{line_no}: expected a JSON object, got {type(record).__name__}")
        yield line_no, record


def read_jsonl(path: Path) -> list[dict]:
    return [record for _, record in iter_jsonl(read_text(path), path)]


def dumps(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False)


@contextmanager
def atomic_open(path: str | Path, mode: str = "w"):
    """Write to a temp file beside `path` and rename it over `path` only when the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_jsonl(path: str | Path, records: Iterable[dict]) -> None:
    with atomic_open(path) as f:
        for record in records:
            f.write(dumps(record) + "\n")


def write_json(path: str | Path, data: object) -> None:
    with atomic_open(path) as f:
        json.dump(data, f, ensure_ascii=False, indent=2)
        f.write("\n")


def sha256_file(path: str | Path) -> str:
    """sha256 of a file, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def require_prompt(record: dict, where: str, line: int) -> str:
    """The record's non-empty `prompt`, or one clear error naming the file and line."""
    prompt = record.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InputError(f"{where}:{line}: field 'prompt' is missing or empty; every line needs a non-empty \"prompt\"")
    return prompt
