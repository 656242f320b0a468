#!/bin/sh
# Can a Bradley–Terry reward model learn to check an arithmetic answer, given a trunk that computes it? Pairs in the
# quickstart's SFT layout ("What is 483 + 782?" -> chosen " 1265", rejected the answer moved by 1, 2, 3, 10, 20 or
# 100, up or down by turns), from the quickstart's training problems (train) and its held-out ones (eval); the reward
# model starts from the quickstart's arithmetic SFT checkpoint. Prints eval_accuracy; RUN/metrics.json keeps it.
#
#   Scripts/reward_check_sums.sh Q [OUT]   (Q: a `tether quickstart` folder; default OUT: Q/check-sums, must not exist)
#   env: STEPS (600), LEARNING_RATE (1e-3), PAIRS (20000: training pairs at most)
set -eu
Q=$1
OUT=${2:-$Q/check-sums}
TETHER=${TETHER:-.build/release/tether}
[ -e "$OUT" ] && { echo "$OUT exists; choose another folder" >&2; exit 1; }
mkdir -p "$OUT"

# One pair per problem; the wrong answer is deterministic (no RNG), so every machine makes the same files.
pairs() {
    awk -v limit="$2" 'BEGIN { split("1 2 3 10 20 100", step, " ") }
        NR > limit { exit }
        match($0, /"prompt":"[^"]*"/) { prompt = substr($0, RSTART + 10, RLENGTH - 11) }
        match($0, /"completion":" [0-9]+"/) { answer = substr($0, RSTART + 15, RLENGTH - 16) + 0 }
        {
            k = step[NR % 6 + 1] * (NR % 2 ? 1 : -1)
            wrong = answer + k < 0 ? answer - k : answer + k
            printf "{\"prompt\":\"%s\",\"chosen\":\" %d\",\"rejected\":\" %d\"}\n", prompt, answer, wrong
        }' "$1"
}
pairs "$Q/data/train.jsonl" "${PAIRS:-20000}" > "$OUT/train_pairs.jsonl"
pairs "$Q/data/test.jsonl" 1000000 > "$OUT/eval_pairs.jsonl"

SFT=$(ls -d "$Q"/sft/checkpoint-* | tail -1)
$TETHER reward train --model "$SFT" --data "$OUT/train_pairs.jsonl" --eval-data "$OUT/eval_pairs.jsonl" \
    --max-steps ${STEPS:-600} --per-device-train-batch-size 16 --learning-rate ${LEARNING_RATE:-1e-3} --warmup-steps 15 \
    --max-length 64 --save-steps 100000 --output-dir "$OUT" --run-name rm
