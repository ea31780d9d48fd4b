"""Model-free parts of `rass-lite generate`: seed libraries, template candidates, parsing a generator
model's answers, operator instructions and candidate filters.

- `seeds`: load and validate `generate/seeds/<lang>.json` (frames with typed slots per category) and
  `--seeds FILE` prompt records.
- `template`: deterministic template candidates with full provenance.
- `parse`: pull prompts out of a generator model's raw answer; operator instructions in each language.
- `filters`: empty, too long, wrong script, duplicates, copies of seeds or of reference prompts.
"""
