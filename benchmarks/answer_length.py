"""How many answer tokens the refusal labels need: answer a MORBench-lite slice once at a long
length, then label every answer cut to shorter lengths and count agreement with the long label.

    python benchmarks/answer_length.py [--every 10] [--reference 96]

Greedy answers are prefix-stable, so the first K tokens of the long answer are exactly the answer
`bench --max-tokens K` gives. Prints one JSON object: agreement per length, overall and per label.
"""

import argparse
import json
from collections import Counter

from _prompts import morbench_slice

from rass_lite.bench import BATCH_SIZE
from rass_lite.backends.llama import LlamaBackend
from rass_lite.refusal.rules import label_response

LENGTHS = (16, 24, 32, 40, 48, 64)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--every", type=int, default=10, help="take every n-th item (all languages)")
    parser.add_argument("--reference", type=int, default=96, help="answer length taken as the truth")
    args = parser.parse_args()

    engine = LlamaBackend.load()
    records = morbench_slice(args.every)
    tokens = [engine.chat_tokens(r["prompt"]) for r in records]
    answers = engine.generate_batch_tokens(tokens, max_tokens=args.reference, batch_size=BATCH_SIZE)

    def labels(k: int) -> list[str]:
        return [label_response(engine.detokenize(a[:k], t), r["lang"]).label for a, t, r in zip(answers, tokens, records)]

    truth = labels(args.reference)
    result = {"model": engine.name, "prompts": len(records), "reference_tokens": args.reference,
              "reference_labels": dict(Counter(truth)),
              "answers_ended_before": {k: sum(len(a) < k for a in answers) for k in LENGTHS}, "agreement": {}}
    for k in LENGTHS:
        cut = labels(k)
        same = [a == b for a, b in zip(cut, truth)]
        by_label = {lab: round(sum(s for s, r in zip(same, records) if r["label"] == lab)
                               / sum(r["label"] == lab for r in records), 3) for lab in sorted({r["label"] for r in records})}
        changed = Counter(f"{b}->{a}" for a, b in zip(cut, truth) if a != b)
        result["agreement"][k] = {"all": round(sum(same) / len(same), 3), **by_label, "changes": dict(changed)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
