#!/bin/sh
# A reward model on the gold assistant world, scored on held-out gold pairs (preference_eval.jsonl: pairs of
# held-out prompts labeled by gold with noise 0 and bias 0). Prints eval_accuracy; RUN/metrics.json keeps it.
#
#   Scripts/reward_gold_world.sh [OUT]          (default OUT: runs/rm-gold; it must not exist)
#   env: PROMPTS (2000), PRETRAIN_STEPS (600), PRETRAIN_LENGTH (64: the base's positions), REWARD_STEPS (400)
#
# Steps: the world; arithmetic facts for pretraining whose held-out problems are exactly the world's (same tasks,
# seeds and --test, so no held-out problem is trained on); a one-token-per-digit tokenizer; a tiny GPT-2 base (d 128, 2 layers)
# pretrained on the facts; the reward model trained on preference.jsonl (README: the K=3 ensemble on the same base).
set -eu
OUT=${1:-runs/rm-gold}
TETHER=${TETHER:-.build/release/tether}
[ -e "$OUT" ] && { echo "$OUT exists; choose another folder" >&2; exit 1; }
mkdir -p "$OUT"

$TETHER data make assistant --out "$OUT/world" --seed 0 --prompts ${PROMPTS:-2000}
# The world's arithmetic is add_2x2 (task 0, seed 0) and mul_2x1 (task 1, seed 1), 50 held out each.
$TETHER data make arithmetic --tasks add_2x2 --seed 0 --test 50 --train 4000 --format text --out "$OUT/facts-add"
$TETHER data make arithmetic --tasks mul_2x1 --seed 1 --test 50 --train 800 --format text --out "$OUT/facts-mul"
cat "$OUT/facts-add/train.jsonl" "$OUT/facts-mul/train.jsonl" "$OUT/facts-mul/train.jsonl" > "$OUT/facts.jsonl"

$TETHER tokenizer train --files "$OUT/facts.jsonl" "$OUT/world/sft.jsonl" --vocab-size 512 --pre-tokenizer qwen2 \
    --out "$OUT/tokenizer"
$TETHER pretrain --tokenizer "$OUT/tokenizer" --data "$OUT/facts.jsonl" --model-config tiny \
    --max-steps ${PRETRAIN_STEPS:-600} --per-device-train-batch-size 64 --learning-rate 3e-3 --warmup-steps 30 \
    --lr-scheduler-type cosine --max-length ${PRETRAIN_LENGTH:-64} --save-steps 100000 --output-dir "$OUT" --run-name base
BASE=$(ls -d "$OUT"/base/checkpoint-* | tail -1)

$TETHER reward train --model "$BASE" --data "$OUT/world/preference.jsonl" \
    --eval-data "$OUT/world/preference_eval.jsonl" --max-steps ${REWARD_STEPS:-400} --per-device-train-batch-size 16 \
    --learning-rate 3e-4 --warmup-steps 20 --max-length 96 --save-steps 100000 --output-dir "$OUT" --run-name rm
