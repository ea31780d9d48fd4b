"""Template candidates: benign-sensitive prompts filled from a language's seed library, no model needed.

Deterministic: the same (library file, lang, categories, n_per_category, seed) gives the same records
in the same order, on any machine (random.Random seeded with a string; no hash randomisation).
"""

from __future__ import annotations

import hashlib
import random

from ..errors import InputError
from .seeds import SeedLibrary, load_library

OPERATOR = "template"
GENERATOR = "template"


def candidate_id(lang: str, prompt: str) -> str:
    """Stable id from the language and the prompt text: the same prompt always gets the same id."""
    digest = hashlib.sha256((lang + "\x1f" + prompt).encode("utf-8")).hexdigest()
    return f"gen-{lang}-{digest[:12]}"


def template_candidates(
    lang: str,
    categories: list[str] | None = None,
    n_per_category: int = 60,
    seed: int = 0,
    *,
    library: SeedLibrary | None = None,
) -> list[dict]:
    """Up to `n_per_category` distinct prompts per category (all of the category's if it has fewer),
    categories in the order given (default: the library's order). Frames take turns, so a small
    `n_per_category` still covers many frames. A prompt that another category already produced is
    skipped, so ids are unique in the result."""
    if not isinstance(n_per_category, int) or n_per_category < 1:
        raise InputError(f"n_per_category must be a positive whole number, got {n_per_category!r}")
    lib = library or load_library(lang)
    names = list(lib.categories) if categories is None else list(categories)
    for name in names:
        if name not in lib.categories:
            raise InputError(f"unknown category {name!r} for language {lang!r}; {lib.path} has: {', '.join(lib.categories)}")
    out: list[dict] = []
    taken: set[str] = set()
    for name in names:
        cat = lib.categories[name]
        rng = random.Random(f"rass-lite-template:{seed}:{lang}:{name}")
        by_frame: dict[str, list] = {}
        for frame, chosen, prompt in cat.fills():
            by_frame.setdefault(frame.id, []).append((frame, chosen, prompt))
        queues = [by_frame[f.id] for f in cat.frames]
        for q in queues:
            rng.shuffle(q)
        rng.shuffle(queues)
        picked = 0
        depth = 0
        while picked < n_per_category and any(depth < len(q) for q in queues):
            for q in queues:
                if depth >= len(q) or picked >= n_per_category:
                    continue
                frame, chosen, prompt = q[depth]
                if prompt in taken:
                    continue
                taken.add(prompt)
                picked += 1
                out.append({
                    "id": candidate_id(lang, prompt),
                    "lang": lang,
                    "prompt": prompt,
                    "category": name,
                    "operator": OPERATOR,
                    "generator": GENERATOR,
                    "generator_sha256": lib.sha256,
                    "seed": {"frame": frame.id, "template": frame.text, "fillers": chosen},
                    "round": 0,
                    "parent": None,
                    "rng_seed": seed,
                })
            depth += 1
    return out
