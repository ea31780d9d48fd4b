"""`rass-lite generate`, `rass-lite select` and `rass-lite rass` (both in one folder): find prompts
that the target overrefuses, near its safety boundary."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from ..backends import side_model
from ..errors import InputError
from ..generate.seeds import load_seed_file
from ..generate.step import SCREEN, GenerateSpec, run_generate
from ..probe import Probe
from ..progress import Cancelled
from ..rass import run_rass
from ..records import sha256_file
from ..select.band import DEFAULT_BAND, check_band
from ..select.step import SelectSpec, pool_candidates, run_select
from .common import add_model_options, err, load_local_model, out, progress_bar, split_list

DEFAULT_LANGS = "en,zh,es"
# rass searches a language only while its pool holds fewer than WANT_PER_N x --n candidates in the
# band: select drops near-duplicates and the judge drops some, so the band needs headroom over --n
# (README, method: "search where the band is short").
WANT_PER_N = 1.25


def register(sub) -> None:
    gen = argparse.ArgumentParser(add_help=False)
    gen.add_argument("--probe", required=True, metavar="DIR", help="the target's probe folder")
    gen.add_argument("--langs", default=DEFAULT_LANGS, help=f"languages (default {DEFAULT_LANGS})")
    gen.add_argument("--categories", help="comma-separated seed categories (default: all)")
    gen.add_argument("--n-per-category", type=int, default=GenerateSpec.n_per_category, metavar="N",
                     help=f"template seeds per category and language (default {GenerateSpec.n_per_category})")
    gen.add_argument("--rounds", type=int, default=GenerateSpec.rounds, metavar="N",
                     help=f"search rounds (0: templates only; default {GenerateSpec.rounds})")
    gen.add_argument("--parents", type=int, default=6, metavar="N", help="candidates rewritten per language and round")
    gen.add_argument("--children", type=int, default=3, metavar="N", help="prompts asked of each rewrite")
    gen.add_argument("--screen", type=float, default=SCREEN, metavar="F",
                     help=f"share of new candidates given the behaviour score (default {SCREEN})")
    gen.add_argument("--generator", metavar="M", help="rewriting model (local or served; default: the target)")
    gen.add_argument("--seeds", metavar="FILE", help="extra seed prompts (.jsonl), e.g. refused rows of a bench run")
    gen.add_argument("--seed", type=int, default=0, help="sampling seed of the templates (default 0)")
    sel = argparse.ArgumentParser(add_help=False)
    sel.add_argument("--n", type=int, default=20, metavar="N", help="prompts kept per language (default 20)")
    sel.add_argument("--band", default=f"{DEFAULT_BAND[0]:g},{DEFAULT_BAND[1]:g}", metavar="LO,HI",
                     help="behaviour-score band to keep (default 0,4: refused, but not firmly)")
    sel.add_argument("--no-verify", action="store_true", help="skip answering and judging the selection")
    sel.add_argument("--judge", metavar="M", help="benignness judge (local or served; default: the target)")

    p = sub.add_parser("generate", parents=[gen], help="RASS generate + search: a scored candidate pool")
    add_model_options(p)
    p.add_argument("--want", type=int, metavar="N",
                   help="search only languages with fewer than N candidates in the band 0..4 (default: every language)")
    p.add_argument("--out", required=True, metavar="DIR")
    p.set_defaults(run=run_generate_cmd)
    p = sub.add_parser("select", parents=[sel], help="RASS select + verify from a generate pool")
    add_model_options(p)
    p.add_argument("pool", metavar="POOL", help="a folder written by `rass-lite generate`")
    p.add_argument("--probe", required=True, metavar="DIR")
    p.add_argument("--out", required=True, metavar="DIR")
    p.set_defaults(run=run_select_cmd)
    p = sub.add_parser("rass", parents=[gen, sel], help="generate -> search -> select -> verify: a boundary set")
    add_model_options(p)
    p.add_argument("--out", required=True, metavar="DIR")
    p.set_defaults(run=run_rass_cmd)


def _band(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in text.split(","))
    except ValueError:
        raise InputError(f"--band must look like -1,4, got {text!r}") from None
    return check_band(lo, hi)


def _check_select_args(args) -> None:
    """--band and --n, checked before any model is loaded."""
    _band(args.band)
    if args.n < 1:
        raise InputError("--n must be at least 1 (prompts kept per language)")


def _probe_sha(probe_dir: str) -> str:
    return sha256_file(Path(probe_dir) / "probe.json")


def _generate_parts(args, target, probe: Probe):
    from ..generate.seeds import available_languages, known_categories

    langs = split_list(args.langs) or []
    unknown = [lang for lang in langs if lang not in available_languages()]
    if unknown or not langs:
        raise InputError(f"unknown language {unknown[0] if unknown else '(none)'!r} for --langs; "
                         f"the seed library has {', '.join(available_languages())}")
    categories = split_list(args.categories)
    bad = [c for c in categories or [] if c not in known_categories()]
    if bad:
        raise InputError(f"unknown category {bad[0]!r}; categories: {', '.join(known_categories())}")
    if args.n_per_category < 1 or args.rounds < 0 or args.parents < 1 or args.children < 1 or not 0 < args.screen <= 1:
        raise InputError("--n-per-category, --parents and --children must be at least 1, --rounds at least 0, "
                         "--screen in (0, 1]")
    want = getattr(args, "want", None)
    if want is not None and want < 1:
        raise InputError("--want must be at least 1 (candidates in the band per language)")
    if want is None and "n" in args:  # rass: enough in the band for select to keep --n
        want = math.ceil(WANT_PER_N * args.n)
    if args.rounds == 0:
        want = None  # no search to budget
    band = _band(args.band) if "band" in args else DEFAULT_BAND
    seed_records = load_seed_file(args.seeds) if args.seeds else None
    generator = None
    if args.rounds > 0:
        generator = side_model(args.generator, target, lambda name: _load(name, args))
        if getattr(generator, "template", True) is None:
            raise InputError(f"generator {generator.name!r} has no chat template; use an instruct model "
                             "(or set chat_template in its models.toml entry)")
    spec = GenerateSpec(
        target=target.name, target_sha256=target.identity, probe=str(args.probe), probe_layer=probe.layer,
        langs=tuple(langs), categories=tuple(categories) if categories else None, n_per_category=args.n_per_category,
        rounds=args.rounds, parents=args.parents, children=args.children, screen=args.screen,
        generator=generator.name if generator else "template",
        generator_sha256=generator.identity if generator else None,
        seeds_file=args.seeds, seeds_sha256=sha256_file(args.seeds) if args.seeds else None, seed=args.seed,
        want=want, band=band)
    return spec, generator, seed_records


def _load(name: str, args):
    from ..backends import load_backend

    with progress_bar(f"fetching {name}") as progress:
        return load_backend(name, models_file=args.models, progress=progress, concurrency=args.concurrency)


def _select_spec(args, target, probe: Probe, pool: str, pool_sha: str, judge) -> SelectSpec:
    lo, hi = _band(args.band)
    return SelectSpec(target=target.name, target_sha256=target.identity, probe=str(args.probe),
                      probe_layer=probe.layer, pool=pool, pool_sha256=pool_sha, n=args.n, band_low=lo, band_high=hi,
                      verify=not args.no_verify, judge=judge.name if judge else None,
                      judge_identity=judge.identity if judge else None)


def _judge(args, target):
    """The benignness judge: a text backend (local or served; the target itself by default)."""
    return None if args.no_verify else side_model(args.judge, target, lambda name: _load(name, args))


def _cancelled(folder: str) -> int:
    err.print(f"cancelled; what was finished is kept in {folder}: run the same command to resume")
    return 130


def run_generate_cmd(args) -> int:
    probe = Probe.load(args.probe)
    target = load_local_model(args, "generate")
    spec, generator, seeds = _generate_parts(args, target, probe)
    try:
        with progress_bar("generate") as progress:
            pool = run_generate(target, probe, spec, args.out, generator=generator, seed_records=seeds, progress=progress)
    except (Cancelled, KeyboardInterrupt):
        return _cancelled(args.out)
    scored = [c for c in pool.candidates.values() if c["p_refuse"] is not None]
    refused = sum(c["p_refuse"] >= 0.5 for c in scored)
    out.print(f"{len(pool.candidates)} candidates ({len(scored)} behaviour-scored, {refused} with P(refuse) ≥ 0.5), "
              f"{len(pool.dropped)} dropped by filters -> {args.out}/results.jsonl")
    return 0


def run_select_cmd(args) -> int:
    probe = Probe.load(args.probe)
    _check_select_args(args)
    target = load_local_model(args, "select")
    _, pool_sha = pool_candidates(args.pool, target)
    judge = _judge(args, target)
    spec = _select_spec(args, target, probe, str(args.pool), pool_sha, judge)
    try:
        with progress_bar("select") as progress:
            selected = run_select(target, probe, args.pool, spec, args.out, judge=judge, progress=progress)
    except (Cancelled, KeyboardInterrupt):
        return _cancelled(args.out)
    _print_selection(selected)
    return 0


def run_rass_cmd(args) -> int:
    probe = Probe.load(args.probe)
    _check_select_args(args)
    target = load_local_model(args, "rass")
    spec, generator, seeds = _generate_parts(args, target, probe)
    judge = _judge(args, target)
    try:
        with progress_bar("rass") as progress:
            result = run_rass(target, probe, args.out, spec,
                              lambda pool, sha: _select_spec(args, target, probe, pool, sha, judge),
                              generator=generator, judge=judge, seed_records=seeds, progress=progress)
    except (Cancelled, KeyboardInterrupt):
        return _cancelled(args.out)
    _print_selection(result.selected)
    err.print(f"boundary set: {len(result.boundary_set)} prompts -> {args.out}/boundary-set.jsonl; report: {args.out}/report.md")
    return 0


def _print_selection(selected: list[dict]) -> None:
    from rich.table import Table

    from ..refusal import is_refused

    table = Table("lang", "selected", "refused", "benign", "unsure", "harmful", box=None)
    for lang in sorted({r["lang"] for r in selected}):
        rows = [r for r in selected if r["lang"] == lang]
        verdicts = [r.get("benign") for r in rows]
        table.add_row(lang, str(len(rows)), str(sum(is_refused(r.get("refusal") or "comply") for r in rows)),
                      *(str(verdicts.count(v)) for v in ("legitimate", "unsure", "harmful")))
    out.print(table)

