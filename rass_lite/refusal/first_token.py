"""First-token refusal score: from one forward pass (no generation), the probability that the
answer's first token opens a refusal. The token set is derived per model tokenizer from the
language's refusal openers in the marker data, never hard-coded."""

from __future__ import annotations

import numpy as np

from .rules import refusal_openers


def refusal_token_ids(backend, lang: str) -> list[int]:
    """First tokens of the language's refusal openers as this model would start an answer."""
    ids: set[int] = set()
    for phrase in refusal_openers(lang):
        for variant in {phrase, phrase[:1].upper() + phrase[1:]}:
            tokens = backend.tokens_of(variant)
            if tokens:
                ids.add(tokens[0])
    return sorted(ids)


def p_refuse_first_token(backend, prompt: str, lang: str = "en", system: str | None = None) -> float:
    """Probability mass of refusal-opening tokens at the first answer position (an ActivationBackend)."""
    logits = backend.next_token_logits(prompt, system=system).astype(np.float64)
    p = np.exp(logits - logits.max())
    p /= p.sum()
    return float(p[refusal_token_ids(backend, lang)].sum())


def p_refuse_first_tokens(backend, prompts: list[str], langs: list[str], *, layer: int | None = None,
                          progress=None, should_stop=lambda: False) -> tuple[np.ndarray, np.ndarray | None]:
    """`p_refuse_first_token` for many prompts in one shared-prefix pass each (and, with `layer`,
    the hidden states of that pass): returns (p_refuse [n], states [n, n_embd] or None)."""
    ids = {lang: refusal_token_ids(backend, lang) for lang in set(langs)}
    probs, states = backend.first_token_probs(prompts, [ids[lang] for lang in langs], layer=layer,
                                              progress=progress, should_stop=should_stop)
    return np.array([float(p.sum()) for p in probs]), states
