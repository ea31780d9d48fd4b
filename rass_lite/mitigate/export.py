"""Training data for users who fine-tune elsewhere (the paper's own mitigation is preference
training), in TRL's field conventions:

    dpo   {"prompt", "chosen", "rejected"}  chosen = a compliant answer (the mitigated run),
                                            rejected = the refusal (the unmitigated run), same prompt
    sft   {"messages": [{"role": "user", ...}, {"role": "assistant", ...}]}  compliant answers only

Only benign_sensitive prompts (or RASS-verified benign ones) are exported: never a harmful
prompt's answer. Extra fields `id` and `lang` ride along (TRL ignores columns it does not use).

SOURCE is a sweep folder (its scale-0 run and its recommended run), a bench run with `--vs` a
second (mitigated) bench run, or a rass folder with `--vs` a bench run over its boundary set.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError, RunError
from ..records import read_jsonl
from ..refusal import is_refused
from ..runs import read_results, read_run


def _answers(folder: Path) -> dict[str, dict]:
    try:
        info = read_run(folder)
    except RunError:
        raise InputError(f"{folder} is not a bench run (no run.json); give a folder `rass-lite bench` wrote") from None
    if info.step != "bench":
        raise InputError(f"{folder} holds a {info.step} run, not a bench run")
    return read_results(folder)


def source_runs(source: str | Path, vs: str | Path | None) -> tuple[dict[str, dict], dict[str, dict], set[str] | None]:
    """(unmitigated answers, mitigated answers, allowed ids or None = the benign_sensitive label)."""
    source = Path(source)
    if (source / "sweep.json").exists():
        sweep = json.loads((source / "sweep.json").read_text(encoding="utf-8"))
        best = sweep.get("recommended")
        if best is None:
            raise InputError(f"{source}: the sweep recommended no setting, so it has no mitigated run to export; "
                             "pass a bench run with --vs instead")
        return _answers(source / "scale-0"), _answers(source / (sweep.get("recommended_run") or f"scale-{best:g}")), None
    if (source / "boundary-set.jsonl").exists():
        if vs is None:
            raise InputError(f"{source} is a rass folder: pass --vs RUN, a bench run over its boundary-set.jsonl "
                             "(e.g. with --mitigate), for the compliant answers")
        rows = read_jsonl(source / "boundary-set.jsonl")
        allowed = {r["id"] for r in rows if r.get("benign") != "harmful"}
        set_answers = {r["id"]: {**r, "refusal": r.get("refusal") or "comply", "response": r.get("response") or ""}
                       for r in rows}
        return set_answers, _answers(Path(vs)), allowed
    if vs is None:
        raise InputError(f"{source}: a bench run needs --vs OTHER, the mitigated run of the same prompts "
                         "(or give a sweep folder or a rass folder)")
    return _answers(source), _answers(Path(vs)), None


def _allowed(record: dict, allowed: set[str] | None) -> bool:
    if record.get("label") == "harmful":
        return False
    return record["id"] in allowed if allowed is not None else record.get("label") == "benign_sensitive"


def dpo_pairs(source: str | Path, vs: str | Path | None = None) -> list[dict]:
    before, after, allowed = source_runs(source, vs)
    out = []
    for rid, r in sorted(before.items()):
        other = after.get(rid)
        if other is None or not _allowed(r, allowed) or other.get("label") == "harmful":
            continue
        if is_refused(r["refusal"]) and not is_refused(other["refusal"]) and other["response"].strip():
            out.append({"prompt": r["prompt"], "chosen": other["response"].strip(), "rejected": r["response"].strip(),
                        "id": rid, "lang": r["lang"]})
    return out


def sft_records(source: str | Path, vs: str | Path | None = None) -> list[dict]:
    _, after, allowed = source_runs(source, vs)
    out = []
    for rid, r in sorted(after.items()):
        if _allowed(r, allowed) and not is_refused(r["refusal"]) and r["response"].strip():
            out.append({"messages": [{"role": "user", "content": r["prompt"]},
                                     {"role": "assistant", "content": r["response"].strip()}],
                        "id": rid, "lang": r["lang"]})
    return out
