"""Makes the TetherLM parity fixtures: tiny random GPT-2, Qwen2 and Llama models saved with
save_pretrained, plus their logits and loss gradients on a small batch, as JSON.

    python -m venv /tmp/venv && /tmp/venv/bin/pip install torch transformers safetensors
    /tmp/venv/bin/python Scripts/make_lm_fixtures.py

Writes Tests/TetherLMTests/Fixtures/<name>/{config.json, model.safetensors, parity.json}.
The Swift tests need only those files (no Python).
"""
import json
import os

import torch
import transformers
from transformers import (GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM,
                          Qwen2Config, Qwen2ForCausalLM, Qwen2ForSequenceClassification)

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "TetherLMTests", "Fixtures")

# Batch of 2: row 0 is full, row 1 is left-padded by 3 (pad id 0), as generation batches are.
IDS = torch.tensor([[5, 17, 42, 8, 63, 1, 29, 11],
                    [0, 0, 0, 7, 33, 2, 50, 19]])
MASK = torch.tensor([[1, 1, 1, 1, 1, 1, 1, 1],
                     [0, 0, 0, 1, 1, 1, 1, 1]])
TARGETS = torch.tensor([[17, 42, 8, 63, 1, 29, 11, 3],
                        [0, 0, 0, 33, 2, 50, 19, 60]])
# Positions as HF generation derives them: cumulative sum of the mask, minus one (0 at pads).
POSITIONS = (MASK.cumsum(-1) - 1).clamp(min=0)


def randomize(model, seed):
    """Replaces the (tiny, near-uniform) default init by larger random values, so that
    logits and gradients are far from trivial: weights N(0, 0.2), norm gains 1 + N(0, 0.1)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name or ".ln_" in name or name.endswith("ln_f.weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g) if name.endswith("weight")
                        else 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=g))


def hf_weights(model):
    return dict(model.named_parameters())


def dump(name, model, grad_names):
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    model.eval()
    model.save_pretrained(folder, safe_serialization=True)
    model.zero_grad()
    logits = model(input_ids=IDS, attention_mask=MASK, position_ids=POSITIONS).logits  # (B, T, V)
    logp = torch.log_softmax(logits.double(), -1).gather(-1, TARGETS.unsqueeze(-1)).squeeze(-1)
    loss = (logp * MASK).sum()  # sum of target log-probs at real (non-pad) positions
    loss.backward()
    params = hf_weights(model)
    grads = {}
    for g in grad_names:
        p = params[g]
        grads[g] = {"shape": list(p.shape), "values": p.grad.flatten().tolist()}
    record = {
        "transformers": transformers.__version__, "torch": torch.__version__,
        "input_ids": IDS.tolist(), "attention_mask": MASK.tolist(), "position_ids": POSITIONS.tolist(),
        "targets": TARGETS.tolist(), "logits_shape": list(logits.shape),
        "logits": logits.detach().flatten().tolist(), "loss": loss.item(),
        "grads": grads,
    }
    with open(os.path.join(folder, "parity.json"), "w") as f:
        json.dump(record, f)
    print(name, "keys:", sorted(k for k in params)[:4], "...", "loss", loss.item())


def main():
    torch.manual_seed(0)
    gpt2 = GPT2LMHeadModel(GPT2Config(
        vocab_size=64, n_positions=32, n_embd=32, n_layer=2, n_head=4, resid_pdrop=0, embd_pdrop=0,
        attn_pdrop=0, bos_token_id=63, eos_token_id=63, attn_implementation="eager"))
    randomize(gpt2, 1)
    dump("tiny-gpt2", gpt2, ["transformer.wte.weight", "transformer.wpe.weight",
                             "transformer.h.0.attn.c_attn.weight", "transformer.h.0.attn.c_attn.bias",
                             "transformer.h.1.mlp.c_proj.weight", "transformer.h.1.ln_2.weight",
                             "transformer.ln_f.bias"])

    torch.manual_seed(0)
    qcfg = dict(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32,
                rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=False, pad_token_id=0,
                bos_token_id=1, eos_token_id=2, attention_dropout=0.0, attn_implementation="eager")
    qwen = Qwen2ForCausalLM(Qwen2Config(**qcfg))
    randomize(qwen, 2)
    dump("tiny-qwen2", qwen, ["model.embed_tokens.weight", "lm_head.weight",
                              "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.bias",
                              "model.layers.0.self_attn.v_proj.weight", "model.layers.1.mlp.down_proj.weight",
                              "model.layers.1.mlp.gate_proj.weight", "model.norm.weight"])

    torch.manual_seed(0)
    llama = LlamaForCausalLM(LlamaConfig(
        vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=32, rms_norm_eps=1e-5, tie_word_embeddings=True,
        rope_theta=500000.0, bos_token_id=1, eos_token_id=[2, 3],
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                      "high_freq_factor": 4.0, "original_max_position_embeddings": 8},
        attn_implementation="eager"))
    randomize(llama, 3)
    dump("tiny-llama", llama, ["model.embed_tokens.weight", "model.layers.0.self_attn.k_proj.weight",
                               "model.layers.1.self_attn.o_proj.weight", "model.layers.0.mlp.up_proj.weight",
                               "model.layers.1.post_attention_layernorm.weight"])

    # The same Llama saved in shards (model.safetensors.index.json), as large checkpoints are.
    llama.save_pretrained(os.path.join(OUT, "tiny-llama-sharded"), safe_serialization=True, max_shard_size="40KB")
    # The Qwen2 model stored in bfloat16, as most released checkpoints are.
    qwen.to(torch.bfloat16).save_pretrained(os.path.join(OUT, "tiny-qwen2-bf16"), safe_serialization=True)
    for extra in ["tiny-llama-sharded", "tiny-qwen2-bf16"]:
        path = os.path.join(OUT, extra, "generation_config.json")
        if os.path.exists(path):
            os.remove(path)

    # A reward model: the Qwen2 trunk with a scalar `score` head, read at the last non-pad token.
    torch.manual_seed(0)
    scorer = Qwen2ForSequenceClassification(Qwen2Config(num_labels=1, **qcfg))
    randomize(scorer, 4)
    folder = os.path.join(OUT, "tiny-qwen2-score")
    os.makedirs(folder, exist_ok=True)
    scorer.eval()
    scorer.save_pretrained(folder, safe_serialization=True)
    ids = torch.tensor([[5, 17, 42, 8, 63, 1, 29, 11], [7, 33, 2, 50, 19, 0, 0, 0]])  # row 1 right-padded
    mask = (ids != 0).long()
    with torch.no_grad():
        scores = scorer(input_ids=ids, attention_mask=mask).logits  # (B, 1)
    with open(os.path.join(folder, "parity.json"), "w") as f:
        json.dump({"input_ids": ids.tolist(), "attention_mask": mask.tolist(),
                   "scores": scores.flatten().tolist()}, f)
    print("score keys:", sorted(n for n, _ in scorer.named_parameters())[-3:], scores.flatten().tolist())


if __name__ == "__main__":
    main()
