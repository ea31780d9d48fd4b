"""RASS step 5 as one recorded step: seed the pool (templates, a seeds file), then search — each
round scores the new candidates on the target (the projection screen: a pass that stops at the
probe layer; then the behaviour score, the first-token refusal probability, for the share closest to
the boundary), picks as parents the candidates the target still answers but nearly refuses, asks
the generator to rewrite them through an operator chosen by a bandit, filters the children and
scores them in turn. Every candidate and its scores are kept, the dropped ones with their reason.
With `want` (rass: 1.25 × --n), a round rewrites only for the languages whose pool still holds fewer
than `want` candidates in the selection band: rewrites cost generation, and where the band is
already full they cannot change what select keeps.

    RUNDIR/results.jsonl   kind "candidate" (kept, scored), "dropped" (filter reason), "request"
                           (one rewrite: parent, operator, the children it gave, its reward)

Resuming redoes only what is missing: scored candidates and finished rewrites come from the folder;
rewrites are asked in fixed chunks, and a chunk cut short is asked again whole, so a resumed run
equals an uninterrupted one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..backends.base import ActivationBackend, TextBackend, never, require_activations
from ..errors import InputError
from ..probe import Probe, check_probe_matches
from ..probe.boundary import sigmoid
from ..probe.directions import project
from ..progress import Cancelled, Progress, silent
from ..runs import Recorder
from ..score import first_token_signal
from ..select.band import DEFAULT_BAND
from .bandit import OperatorBandit, child_reward
from .filters import apply_filters, normalise
from .parse import OPERATORS, operator_instruction, parse_prompts
from .seeds import known_categories
from .template import candidate_id, template_candidates

STEP = "generate"
SCREEN = 0.5  # share of each new batch, closest to the boundary by projection, that gets the behaviour score
REWRITE_TOKENS = 160  # enough for three one-sentence prompts and some chatter
REWRITE_BATCH = 8


@dataclass(frozen=True)
class GenerateSpec:
    target: str
    target_sha256: str
    probe: str
    probe_layer: int
    langs: tuple[str, ...]
    categories: tuple[str, ...] | None = None
    n_per_category: int = 20  # template seeds per category and language (README, method: pool size)
    rounds: int = 1
    parents: int = 6  # per language and round
    children: int = 3  # prompts asked of each rewrite
    screen: float = SCREEN
    generator: str = "template"
    generator_sha256: str | None = None
    seeds_file: str | None = None
    seeds_sha256: str | None = None
    seed: int = 0
    want: int | None = None  # search only languages with fewer candidates than this in `band`
    band: tuple[float, float] = DEFAULT_BAND


@dataclass
class Pool:
    candidates: dict[str, dict] = field(default_factory=dict)  # id -> record, in insertion order
    dropped: list[dict] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    bandit: dict = field(default_factory=dict)
    full: dict[str, int] = field(default_factory=dict)  # language -> candidates in the band, when no round searched it

    def filter_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for d in self.dropped:
            counts[d["filter_reason"]] = counts.get(d["filter_reason"], 0) + 1
        return counts


def run_generate(target: TextBackend, probe: Probe, spec: GenerateSpec, folder: str | Path, *,
                 generator: TextBackend | None = None, seed_records: list[dict] | None = None,
                 progress: Progress | None = None, should_stop: Callable[[], bool] = never) -> Pool:
    model = require_activations(target, "generate (the search scores candidates on the target)")
    check_probe_matches(probe, model)
    if spec.rounds > 0 and generator is None:
        raise InputError("the search (--rounds > 0) needs a generator model; pass --generator NAME or --rounds 0")
    progress = progress or silent
    with Recorder(folder, STEP, spec) as run:
        pool = Pool()
        for r in run.done.values():  # what earlier sessions finished
            if r["kind"] == "candidate":
                pool.candidates[r["id"]] = r
            elif r["kind"] == "dropped":
                pool.dropped.append(r)
        finished = {r["id"]: r for r in run.done.values() if r["kind"] == "request"}
        search = _Search(model, probe, spec, run, pool, progress, should_stop)
        try:
            search.add(_seed_pool(spec, seed_records), round_=0, parent_prompts=())
            bandits = {lang: OperatorBandit(OPERATORS) for lang in spec.langs}
            for round_ in range(1, spec.rounds + 1):
                search.round(round_, generator, bandits, finished)
        except Cancelled:
            run.finish("cancelled")
            raise
        pool.bandit = {lang: b.summary() for lang, b in bandits.items() if lang not in search.full} if spec.rounds else {}
        pool.full = dict(search.full)
        pool.requests = [r for r in run.done.values() if r["kind"] == "request"]
        run.finish("success")
    return pool


def _seed_pool(spec: GenerateSpec, seed_records: list[dict] | None) -> list[dict]:
    seeds = []
    for lang in spec.langs:
        seeds += template_candidates(lang, list(spec.categories) if spec.categories else None,
                                     spec.n_per_category, spec.seed)
    for r in seed_records or []:
        if r["lang"] in spec.langs:
            seeds.append({"id": candidate_id(r["lang"], r["prompt"]), "lang": r["lang"], "prompt": r["prompt"],
                          "category": r.get("category") or "seed_file", "operator": "seed_file",
                          "generator": "seed_file", "generator_sha256": spec.seeds_sha256,
                          "seed": r.get("id"), "round": 0, "parent": None, "rng_seed": spec.seed})
    return seeds


def _category(candidate: dict) -> str:
    """The seed category whose instruction rewrites this candidate: its own, or, for a seeds-file
    prompt outside the library's categories, the broadest frame (education, medicine, security)."""
    category = candidate.get("category") or ""
    return category if category in known_categories() else "safe_contexts_education_medicine_security"


class _Search:
    def __init__(self, model: ActivationBackend, probe: Probe, spec: GenerateSpec, run: Recorder, pool: Pool,
                 progress: Progress, should_stop: Callable[[], bool]):
        self.model, self.probe, self.spec, self.run, self.pool = model, probe, spec, run, pool
        self.progress, self.should_stop = progress, should_stop
        self.used_parents: set[str] = set()
        self.norms = {normalise(c["prompt"]) for c in pool.candidates.values()}
        self.full: dict[str, int] = {}  # languages no round has searched, with their count in the band

    # --- adding and scoring candidates --------------------------------------------------------------
    def add(self, candidates: list[dict], *, round_: int, parent_prompts) -> list[dict]:
        """Filter, score and record the candidates not yet recorded; returns the kept ones (those an
        earlier session of this same step recorded included). A candidate equal to one from another
        parent or round is dropped as a duplicate."""
        def own(c: dict) -> bool:  # recorded before by this very step (a resumed session)
            prior = self.pool.candidates.get(c["id"])
            return prior is not None and prior["round"] == round_ and prior.get("parent") == c.get("parent")

        drop_ids = {d["id"] for d in self.pool.dropped}
        fresh, seen = [], set()
        for c in candidates:
            key = normalise(c.get("prompt") or "")
            if own(c) or f"drop-{c['id']}-{c.get('parent')}" in drop_ids:
                continue
            if c["id"] in self.pool.candidates or key in self.norms or key in seen:
                self._drop(c, "duplicate_normalised")
                continue
            seen.add(key)
            fresh.append(c)
        kept, _, dropped = apply_filters(fresh, seeds=list(parent_prompts))
        for d in dropped:
            self._drop(d, d["filter_reason"])
        if kept:
            for c in self._score(kept):
                self.run.append(c)
                self.pool.candidates[c["id"]] = c
                self.norms.add(normalise(c["prompt"]))
        return [self.pool.candidates[c["id"]] for c in candidates if own(c)]

    def _drop(self, candidate: dict, reason: str) -> None:
        record = {**candidate, "id": f"drop-{candidate['id']}-{candidate.get('parent')}", "kind": "dropped",
                  "filter_reason": reason}
        self.run.append(record)
        self.pool.dropped.append(record)

    def _score(self, candidates: list[dict]) -> list[dict]:
        """Projection for all (a pass stopping at the probe layer); the first-token P(refuse) for the
        `screen` share nearest the boundary (highest projection first)."""
        prompts = [c["prompt"] for c in candidates]
        hidden = self.model.capture(prompts, [self.probe.layer], stop_at_layer=True, should_stop=self.should_stop)
        proj = project(hidden[:, 0], self.probe.direction)
        order = np.argsort(-proj, kind="stable")
        n_screen = max(1, int(np.ceil(self.spec.screen * len(candidates))))
        screened = set(int(i) for i in order[:n_screen])
        idx = sorted(screened)
        p, _ = first_token_signal(self.model, self.probe, [prompts[i] for i in idx],
                                  [candidates[i]["lang"] for i in idx], should_stop=self.should_stop)
        p_of = dict(zip(idx, p))
        out = []
        for i, c in enumerate(candidates):
            pr = p_of.get(i)
            # The behaviour score (projection + first-token P(refuse)) for the screened ones.
            score = None if pr is None else float(self.probe.score(proj[i], pr))
            out.append({**c, "kind": "candidate", "projection": round(float(proj[i]), 4),
                        "projection_score": round(float(self.probe.boundary.score(proj[i])), 4),
                        "screened": i in screened,
                        "p_first_token": None if pr is None else round(float(pr), 4),
                        "p_refuse": None if score is None else round(float(sigmoid(score)), 4),
                        "score": None if score is None else round(score, 4)})
        self.progress(len(self.pool.candidates) + len(out), 0, "scored")
        return out

    # --- one search round ---------------------------------------------------------------------------
    def moved_toward(self, c: dict) -> bool:
        """A seed, or a child whose P(refuse) rose above its parent's: only those become parents."""
        parent = self.pool.candidates.get(c["parent"]) if c.get("parent") else None
        return parent is None or (c["p_refuse"] is not None and c["p_refuse"] > parent["p_refuse"])

    def parents(self, lang: str, round_: int) -> list[dict]:
        """Candidates of earlier rounds the target still answers (P(refuse) < 0.5) but nearest to
        refusing, not used yet."""
        pool = [c for c in self.pool.candidates.values() if c["lang"] == lang and c["round"] < round_
                and c["p_refuse"] is not None
                and c["p_refuse"] < 0.5 and c["id"] not in self.used_parents and self.moved_toward(c)]
        pool.sort(key=lambda c: (-c["p_refuse"], c["id"]))
        return pool[:self.spec.parents]

    def in_band(self, lang: str) -> int:
        lo, hi = self.spec.band
        return sum(1 for c in self.pool.candidates.values()
                   if c["lang"] == lang and c["score"] is not None and lo <= c["score"] <= hi)

    def round(self, round_: int, generator: TextBackend, bandits: dict[str, OperatorBandit],
              finished: dict[str, dict]) -> None:
        asks = []
        for lang in self.spec.langs:
            if self.spec.want is not None and (count := self.in_band(lang)) >= self.spec.want:
                if round_ == 1:
                    self.full[lang] = count
                continue
            for parent in self.parents(lang, round_):
                self.used_parents.add(parent["id"])
                op = bandits[lang].pick()
                rid = "req-" + hashlib.sha256(f"{round_}:{parent['id']}:{op}".encode()).hexdigest()[:12]
                asks.append((rid, lang, parent, op))
        texts: dict[str, str] = {}
        for start in range(0, len(asks), REWRITE_BATCH):
            chunk = asks[start:start + REWRITE_BATCH]
            if all(rid in finished for rid, *_ in chunk):
                continue
            prompts = [operator_instruction(_category(p), lang, p["prompt"], self.spec.children, operator=op)
                       for _, lang, p, op in chunk]
            answers = generator.generate_batch(prompts, max_tokens=REWRITE_TOKENS, batch_size=REWRITE_BATCH,
                                               should_stop=self.should_stop)
            if None in answers:
                raise Cancelled("generate")
            texts.update({rid: a for (rid, *_), a in zip(chunk, answers)})
        # Rewards reach the bandit in asking order, from this session's rewrites or earlier ones'.
        for rid, lang, parent, op in asks:
            reward = finished[rid]["reward"] if rid in finished else self._children(rid, round_, lang, parent, op, texts[rid])
            bandits[lang].reward(op, reward)
        self.progress(round_, self.spec.rounds, f"round {round_}")

    def _children(self, rid: str, round_: int, lang: str, parent: dict, op: str, text: str) -> float:
        prompts = parse_prompts(text)[:self.spec.children]
        children = [{"id": candidate_id(lang, q), "lang": lang, "prompt": q, "category": parent.get("category"),
                     "operator": op, "generator": self.spec.generator, "generator_sha256": self.spec.generator_sha256,
                     "seed": parent.get("seed"), "round": round_, "parent": parent["id"], "rng_seed": self.spec.seed}
                    for q in prompts]
        kept = self.add(children, round_=round_, parent_prompts=[parent["prompt"]])
        rewards = [child_reward(parent["p_refuse"], c["p_refuse"]) for c in kept if c["p_refuse"] is not None]
        reward = round(max(rewards, default=0.0), 4)
        self.run.append({"id": rid, "kind": "request", "round": round_, "lang": lang, "parent": parent["id"],
                         "operator": op, "children": [c["id"] for c in kept], "n_parsed": len(prompts),
                         "reward": reward})
        return reward
