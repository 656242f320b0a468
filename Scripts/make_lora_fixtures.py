"""Makes the TetherLM LoRA parity fixtures: PEFT LoRA adapters (with random, non-zero B) on
the tiny GPT-2, Llama and Qwen2 fixtures, saved with save_pretrained, plus the logits with the
adapter applied and the gradients of a loss w.r.t. the adapter factors, as JSON.

    /tmp/venv/bin/pip install torch transformers safetensors peft
    /tmp/venv/bin/python Scripts/make_lora_fixtures.py

Reads Tests/TetherLMTests/Fixtures/tiny-{gpt2,llama,qwen2} (Scripts/make_lm_fixtures.py) and writes
Tests/TetherLMTests/Fixtures/lora-{gpt2,llama,qwen2}/{adapter_config.json, adapter_model.safetensors,
parity.json}. The Swift tests need only those files (no Python).
"""
import json
import os

import peft
import torch
import transformers
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

FIX = os.path.join(os.path.dirname(__file__), "..", "Tests", "TetherLMTests", "Fixtures")

IDS = torch.tensor([[5, 17, 42, 8, 63, 1, 29, 11],
                    [0, 0, 0, 7, 33, 2, 50, 19]])
MASK = torch.tensor([[1, 1, 1, 1, 1, 1, 1, 1],
                     [0, 0, 0, 1, 1, 1, 1, 1]])
TARGETS = torch.tensor([[17, 42, 8, 63, 1, 29, 11, 3],
                        [0, 0, 0, 33, 2, 50, 19, 60]])
POSITIONS = (MASK.cumsum(-1) - 1).clamp(min=0)


def adapter_grads(model):
    """Gradients of Σ log p(target) over real tokens w.r.t. every adapter factor, by the
    parameter names Tether uses (PEFT's minus `base_model.model.` and the adapter name)."""
    model.zero_grad()
    logits = model(input_ids=IDS, attention_mask=MASK, position_ids=POSITIONS).logits
    logp = torch.log_softmax(logits.double(), -1).gather(-1, TARGETS.unsqueeze(-1)).squeeze(-1)
    (logp * MASK).sum().backward()
    grads = {}
    for pname, p in model.named_parameters():
        if "lora_" in pname:
            key = pname.removeprefix("base_model.model.").replace(".default.", ".")
            grads[key] = {"shape": list(p.shape), "values": p.grad.flatten().tolist()}
    return grads


def make(base, name, targets, r, alpha, seed, **extra):
    model = AutoModelForCausalLM.from_pretrained(os.path.join(FIX, base), attn_implementation="eager")
    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=0.0, target_modules=targets,
                        task_type="CAUSAL_LM", bias="none", **extra)
    model = get_peft_model(model, config)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if "lora_" in pname:  # B is zero after init: give both factors real values
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
    model.eval()
    folder = os.path.join(FIX, name)
    os.makedirs(folder, exist_ok=True)
    model.peft_config["default"].base_model_name_or_path = base  # not this machine's path
    model.peft_config["default"].target_modules = sorted(model.peft_config["default"].target_modules)  # a set
    model.save_pretrained(folder)
    readme = os.path.join(folder, "README.md")  # PEFT's model card: not needed
    if os.path.exists(readme):
        os.remove(readme)
    grads = adapter_grads(model)
    with torch.no_grad():
        logits = model(input_ids=IDS, attention_mask=MASK, position_ids=POSITIONS).logits
        with model.disable_adapter():
            base_logits = model(input_ids=IDS, attention_mask=MASK, position_ids=POSITIONS).logits
    record = {
        "transformers": transformers.__version__, "torch": torch.__version__, "peft": peft.__version__,
        "input_ids": IDS.tolist(), "attention_mask": MASK.tolist(), "position_ids": POSITIONS.tolist(),
        "targets": TARGETS.tolist(), "grads": grads, "logits_shape": list(logits.shape), "logits": logits.flatten().tolist(),
        "max_adapter_effect": (logits - base_logits).abs().max().item(),
        "trainable_params": model.get_nb_trainable_parameters()[0],
        "total_params": model.get_nb_trainable_parameters()[1],
    }
    with open(os.path.join(folder, "parity.json"), "w") as f:
        json.dump(record, f)
    print(name, "trainable:", model.get_nb_trainable_parameters(), "effect", record["max_adapter_effect"])


def main():
    make("tiny-gpt2", "lora-gpt2", ["c_attn", "c_fc"], r=4, alpha=8, seed=11, fan_in_fan_out=True)
    make("tiny-llama", "lora-llama", ["q_proj", "v_proj", "down_proj"], r=2, alpha=3, seed=12,
         use_rslora=True)
    # "all-linear" on a model with an untied lm_head: PEFT leaves the head out and saves the
    # expanded list of full module paths as target_modules.
    make("tiny-qwen2", "lora-qwen2", "all-linear", r=2, alpha=4, seed=13)


if __name__ == "__main__":
    main()
