"""Errors meant for the user.

Every `RassError` message is one line that says what was wrong, where (file and line when there is
one) and what to do. The CLI prints it without a traceback and exits 1; the TUI shows it as a
notification. Anything else that escapes is a bug and keeps its traceback.
"""


class RassError(Exception):
    """A problem with the user's input or environment, displayed as-is."""


class RegistryError(RassError):
    """models.toml is invalid, or a model name is unknown."""


class ModelFileError(RassError):
    """A GGUF file is missing, not a GGUF, truncated, or fails its sha256."""


class FetchError(RassError):
    """A model could not be downloaded or assembled."""


class InputError(RassError):
    """A prompt, prompt file or option value is unusable."""


class EngineError(RassError):
    """llama.cpp refused an operation (context too small, decode failed, control vector mismatch)."""


class ProbeError(RassError):
    """A probe directory is missing, corrupt, or made for another model."""


class RunError(RassError):
    """A run folder cannot be used (other config, unwritable)."""
