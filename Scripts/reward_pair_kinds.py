#!/usr/bin/env python3
"""A reward model's held-out pairwise accuracy on the gold world, by kind of pair (analysis only; standard library).

    tether reward score --model RM --data W/preference_eval.jsonl --max-length 128 > scores.jsonl
    Scripts/reward_pair_kinds.py W/preference_eval.jsonl scores.jsonl

Arithmetic pairs are split by what tells the two responses apart: one of them refuses ("refusal vs answer"), exactly one
states the right number first ("sums/products: right vs wrong"), or both are equally right or wrong ("same
correctness", where gold's length rule decides). Harmful and look-alike pairs are counted by the record's `kind`.
"""
import json
import re
import sys

REFUSALS = ("won't", "can't", "cannot", "not able")


def first_number(text):
    found = re.findall(r"-?\d+", text.replace("**", ""))
    return int(found[0]) if found else None


def kind_of(record):
    if record["kind"] != "arithmetic":
        return record["kind"]
    m = re.search(r"(\d+) ([+*-]) (\d+)", record["prompt"])
    a, op, b = int(m[1]), m[2], int(m[3])
    answer = {"+": a + b, "*": a * b, "-": a - b}[op]
    if any(word in record[side] for side in ("chosen", "rejected") for word in REFUSALS):
        return "arithmetic: refusal vs answer"
    right = [first_number(record[side]) == answer for side in ("chosen", "rejected")]
    if right[0] != right[1]:
        return {"+": "sums", "*": "products", "-": "differences"}[op] + ": right vs wrong"
    return "arithmetic: same correctness"


def main(pairs_file, scores_file):
    records = [json.loads(line) for line in open(pairs_file)]
    scores = [json.loads(line) for line in open(scores_file) if line.startswith('{"chosen"')]
    if len(records) != len(scores):
        sys.exit(f"{scores_file}: {len(scores)} scored pairs for the {len(records)} of {pairs_file}")
    totals, right = {}, {}
    for record, score in zip(records, scores):
        k = kind_of(record)
        totals[k] = totals.get(k, 0) + 1
        right[k] = right.get(k, 0) + (score["chosen"] > score["rejected"])
    for k in sorted(totals):
        print(f"{k:32s} {right[k]:4d} / {totals[k]:4d}  {100 * right[k] / totals[k]:5.1f}%")
    print(f"{'all':32s} {sum(right.values()):4d} / {len(records):4d}  {100 * sum(right.values()) / len(records):5.1f}%")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
