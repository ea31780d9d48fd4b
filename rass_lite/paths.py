"""Where rass-lite keeps files. One place decides; tests redirect it with environment variables."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def cache_dir() -> Path:
    """Downloaded models: $RASS_LITE_CACHE, else the platform's user cache dir."""
    if env := os.environ.get("RASS_LITE_CACHE"):
        return Path(env).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "rass-lite"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "rass-lite" / "Cache"
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rass-lite"


def config_dir() -> Path:
    """User settings (models.toml): $XDG_CONFIG_HOME/rass-lite or the platform equivalent."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "rass-lite"
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home())) / "rass-lite"
    return Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "rass-lite"


def home_dir() -> Path:
    """Runs and other outputs: $RASS_LITE_HOME, else the platform's user data dir."""
    if env := os.environ.get("RASS_LITE_HOME"):
        return Path(env).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "rass-lite"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "rass-lite"
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "rass-lite"


def runs_dir() -> Path:
    """Where a step records its run when no --out is given: HOME/runs/<model>/<step>/<spec hash>."""
    return home_dir() / "runs"
