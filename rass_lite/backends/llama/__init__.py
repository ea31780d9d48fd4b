"""The llama.cpp backend: the only package that imports llama_cpp or ctypes."""

from .backend import LlamaBackend

__all__ = ["LlamaBackend"]
