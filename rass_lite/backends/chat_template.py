"""Chat formatting with the model's own Jinja chat template (sandboxed)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..errors import InputError


class TemplateRaised(Exception):
    pass


def _raise(message: str):
    raise TemplateRaised(message)


@lru_cache(maxsize=8)
def _compile(source: str) -> jinja2.Template:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, loader=jinja2.BaseLoader())
    env.globals["raise_exception"] = _raise
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env.from_string(source)


def render_chat(template: str, messages: list[dict], *, bos_token: str = "", eos_token: str = "") -> str:
    """The prompt text for `messages`, ending with the assistant's turn header."""
    try:
        return _compile(template).render(
            messages=messages, add_generation_prompt=True, bos_token=bos_token, eos_token=eos_token
        )
    except TemplateRaised as exc:
        raise InputError(f"the model's chat template rejected the conversation: {exc}") from None
    except jinja2.TemplateError as exc:
        raise InputError(f"the chat template could not be rendered ({exc}); set chat_template in models.toml") from None


def messages_for(prompt: str, system: str | None) -> list[dict]:
    messages = [{"role": "system", "content": system}] if system else []
    return messages + [{"role": "user", "content": prompt}]
