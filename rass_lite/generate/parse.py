"""Pull candidate prompts out of a generator model's raw answer, and build the operator instructions
that ask a generator model for them (texts in `generate/operators/<lang>.json`).

`parse_prompts` is forgiving: it copes with numbered lists (1. 1) (1) ① １． 1、 ١.), bullets, quoted
prompts (straight, curly, «», 「」, 『』, „“, ‚‘), several prompts on one line, chatter around them
("Sure! Here are 3 prompts:", "I hope this helps", "Note: ..."), markdown bold/italics/headings, code
fences, and CJK and Arabic punctuation. It returns prompts in order, each once.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from importlib import resources

from ..errors import InputError
from .seeds import known_categories, load_library

OPERATORS = ("add_context", "swap_sensitive_word", "make_figurative", "change_register", "move_frame")

_DIGITS = "0-9０-９٠-٩۰-۹"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳❶❷❸❹❺❻❼❽❾❿➀➁➂➃➄➅➆➇➈➉"
# A list marker at the start of a line.
_MARKER = re.compile(
    rf"^\s*(?:"
    rf"[\(（]\s*[{_DIGITS}]+\s*[\)）]"                # (1) （1）
    rf"|[{_DIGITS}]+\s*[.)．、:：\-–—](?![{_DIGITS}])"  # 1. 1) 1、 1: 1-  ١.  (not 3.5)
    rf"|[{_CIRCLED}]"                                 # ①
    rf"|[一二三四五六七八九十]+\s*[、.．]"               # 一、
    rf"|[a-hA-H]\s*[.)](?=\s)"                        # a) b.
    rf"|[-*•·●▪◦‣–—+](?=\s)"                         # bullets
    rf")\s*"
)
# A numbered item that starts in the middle of a line, after the end of a previous prompt.
_INLINE_MARKER = re.compile(rf"(?<=[?？؟!！。])\s*(?=(?:[{_DIGITS}]+\s*[.)．、]|[{_CIRCLED}]|[\(（][{_DIGITS}]+[\)）])\s*\S)")
_PAIRS = [("\"", "\""), ("“", "”"), ("”", "”"), ("„", "“"), ("‚", "‘"), ("‘", "’"), ("«", "»"), ("»", "«"),
          ("「", "」"), ("『", "』"), ("﹁", "﹂"), ("'", "'")]
_QUOTED = re.compile(r"\"([^\"\n]{3,})\"|“([^”\n]{3,})”|„([^“”\n]{3,})[“”]|«\s*([^»\n]{3,}?)\s*»|「([^」\n]{2,})」|『([^』\n]{2,})』")
# A label before the prompt: "Prompt 2:", "Rewrite:", "提示1：", "プロンプト：", "Вариант 3:".
_LABEL = re.compile(
    r"^(?:prompt|rewrite|rewritten(?: prompt)?|new prompt|question|variant|version|option|example|"
    r"pregunta|variante|versión|ejemplo|exemple|reformulation|frage|beispiel|vorschlag|"
    r"вариант|запрос|вопрос|пример|提示词|提示|问题|改写|示例|プロンプト|質問|例|案|سؤال|طلب|صيغة|مثال)"
    r"\s*[#{d}]*\s*[:：\-–—]\s*".format(d=_DIGITS),
    re.IGNORECASE,
)
# Whole lines that are chatter, not prompts (matched at the start, after markdown is stripped).
_CHATTER = re.compile(
    r"^(?:sure\b|certainly|of course|okay\b|ok\b|absolutely|great\b|here (?:are|is)|here's|below are|"
    r"these (?:prompts|rewrites|questions|examples|variations|versions|keep|are|all)|each (?:of these|prompt|one)|"
    r"all (?:of these|three|five)|i hope|hope (?:this|these)|let me know|feel free|note\b|notes\b|disclaimer|"
    r"remember\b|i've\b|i have (?:kept|written|made)|"
    r"claro|por supuesto|aquí tienes|aquí están|aquí van|espero que|nota\b|"
    r"bien sûr|voici|voilà|j'espère|j’espère|remarque|n\.\s?b\.|"
    r"gerne|natürlich|hier sind|hier ist|ich hoffe|hinweis|anmerkung|"
    r"конечно|вот\b|надеюсь|примечание|обратите внимание|"
    r"好的|当然|以下是|下面是|这里是|希望|注意|注：|说明|"
    r"はい|もちろん|以下は|以下の|承知|ご参考|参考になれば|※|"
    r"بالتأكيد|بالطبع|إليك|إليكم|فيما يلي|هذه (?:بعض|هي)|آمل|أتمنى|ملاحظة|تنبيه)",
    re.IGNORECASE,
)
# An explanation after the question mark: "…? — keeps 'kill'", "…? (figurative)", "…？（比喻）".
_EXPLAIN = re.compile(r"(?<=[?？؟])\s*(?:[-–—]+\s*|\(|（|:\s|：|→|=>).*$")
_BOLD = re.compile(r"\*\*|__")
_MD = re.compile(r"\*\*|__|(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w)|`|~~")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2066\u2067\u2068\u2069\ufeff"))
_END = ("?", "？", "؟", ".", "。", "!", "！")


def _strip_quotes(s: str) -> str:
    s = s.strip()
    changed = True
    while changed and len(s) >= 2:
        changed = False
        for a, b in _PAIRS:
            if s.startswith(a) and s.endswith(b) and len(s) > len(a) + len(b):
                inner = s[len(a) : -len(b)].strip()
                if a not in inner and b not in inner:  # the pair wraps the whole text
                    s, changed = inner, True
                    break
    return s


def _looks_like_chatter(line: str) -> bool:
    if _CHATTER.match(line):
        return True
    # "Here are three rewrites of your prompt:" and similar intros end with a colon.
    return line.endswith((":", "：")) and not line.rstrip(":：").endswith(("?", "？", "؟"))


def _quoted(text: str) -> list[str]:
    return [next(g for g in m.groups() if g).strip() for m in _QUOTED.finditer(text)]


def _promptish(q: str) -> bool:
    """A quoted bit inside chatter counts as a prompt if it reads like one."""
    return q.endswith(_END) and (len(q.split()) >= 3 or len(q) >= 6 and not q.isascii())


def _finish(c: str) -> str:
    c = _strip_quotes(_EXPLAIN.sub("", _strip_quotes(c.strip())))
    return _MD.sub("", c).strip().strip("-–—•").strip()


def parse_prompts(text: str) -> list[str]:
    """Candidate prompts from a generator model's answer, in order, without repeats."""
    if not isinstance(text, str) or not text.strip():
        return []
    rows: list[tuple[bool, str]] = []  # (was a list item, text without marker)
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.translate(_INVISIBLE).strip()
        if not line or line.startswith("```") or set(line) <= set("-*_=~ "):
            continue  # blank, code fence (its content stays), horizontal rule
        if line.startswith("#"):
            continue  # markdown heading
        line = re.sub(r"^>\s*", "", line)
        for part in _INLINE_MARKER.split(line):
            part = _BOLD.sub("", part).strip()
            m = _MARKER.match(part)
            if m:
                rows.append((True, part[m.end():]))
            elif _LABEL.match(_MD.sub("", part)):
                rows.append((True, part))
            elif part:
                rows.append((False, part))
    any_marked = any(marked for marked, _ in rows)
    out: list[str] = []

    def add(c: str) -> None:
        c = _finish(c)
        if c and any(ch.isalpha() for ch in c) and not _looks_like_chatter(c) and c not in out:
            out.append(c)

    for marked, part in rows:
        item = _LABEL.sub("", _MD.sub("", part).strip()).strip()
        quoted = _quoted(item)
        if _looks_like_chatter(item) or (any_marked and not marked):
            # Chatter or a stray line beside a list: only quoted prompts inside it count.
            for q in quoted:
                if _promptish(q):
                    add(q)
            continue
        covered = sum(len(q) for q in quoted) >= 0.6 * len(item)
        if quoted and (item[:1] in "\"“„«「『" or covered):
            for q in (quoted if covered else quoted[:1]):
                add(q)
        else:
            add(item)
    return out


# --- operator instructions -----------------------------------------------------------------------

@lru_cache(maxsize=None)
def _operator_texts(lang: str) -> dict:
    folder = resources.files("rass_lite").joinpath("generate/operators")
    langs = sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))
    if lang not in langs:
        raise InputError(f"no operator instructions for language {lang!r}; available: {', '.join(langs)}")
    where = f"rass_lite/generate/operators/{lang}.json"
    try:
        data = json.loads(folder.joinpath(f"{lang}.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    for key in ("instruction", "operators", "categories"):
        if key not in data:
            raise InputError(f"{where}: field {key!r} is missing")
    for op in OPERATORS:
        if not data["operators"].get(op):
            raise InputError(f"{where}: operator {op!r} has no text")
    for ph in ("{k}", "{seed}", "{operator}", "{category}", "{examples}"):
        if ph not in data["instruction"]:
            raise InputError(f"{where}: the instruction lacks the placeholder {ph}")
    return data


def category_operators(category: str) -> list[str]:
    """The operators that suit a category, best first (from the categories table)."""
    table = known_categories()
    if category not in table:
        raise InputError(f"unknown category {category!r}; known: {', '.join(table)}")
    ops = table[category].get("operators") or list(OPERATORS)
    return [o for o in ops if o in OPERATORS]


def operator_instruction(category: str, lang: str, seed_prompt: str, k: int, *, operator: str | None = None, n_examples: int = 2) -> str:
    """A short few-shot instruction in `lang` asking a generator model to rewrite `seed_prompt` into
    `k` new benign prompts of `category` that keep the alarming surface. `operator` defaults to the
    category's first operator. The examples are prompts of the same category and language from the
    seed library, picked by a hash of the seed prompt (so they vary per seed, reproducibly)."""
    if not isinstance(k, int) or k < 1:
        raise InputError(f"k must be a positive whole number, got {k!r}")
    if not isinstance(seed_prompt, str) or not seed_prompt.strip():
        raise InputError("the seed prompt is empty; give the prompt to rewrite")
    ops = category_operators(category)
    op = operator or ops[0]
    if op not in OPERATORS:
        raise InputError(f"unknown operator {op!r}; operators: {', '.join(OPERATORS)}")
    texts = _operator_texts(lang)
    cat_text = texts["categories"].get(category)
    if not cat_text:
        raise InputError(f"rass_lite/generate/operators/{lang}.json has no description for category {category!r}; add one under \"categories\"")
    lib = load_library(lang)
    examples: list[str] = []
    if category in lib.categories:
        pool = [p for p in lib.categories[category].distinct_prompts() if p.strip() != seed_prompt.strip()]
        if pool:
            start = int(hashlib.sha256(seed_prompt.encode("utf-8")).hexdigest(), 16) % len(pool)
            step = max(1, len(pool) // max(1, n_examples) + 1)
            for i in range(min(n_examples, len(pool))):
                ex = pool[(start + i * step) % len(pool)]
                if ex not in examples:
                    examples.append(ex)
    text = texts["instruction"]
    for ph, value in (
        ("{category}", cat_text),
        ("{operator}", texts["operators"][op]),
        ("{examples}", "\n".join(f"- {e}" for e in examples) or "-"),
        ("{k}", str(k)),
    ):
        text = text.replace(ph, value)
    # The seed goes in last, so braces inside it are never read as placeholders.
    return text.replace("{seed}", seed_prompt.strip())
