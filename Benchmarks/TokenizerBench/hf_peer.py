"""Time the HF `tokenizers` library on the text TokenizerBench wrote (--write-text FILE).

    pip install tokenizers && python3 hf_peer.py FILE
Prints MB/s for one encode of the whole text and for encode_batch over its lines, and the
token counts (which must equal TokenizerBench's).
"""
import os, sys, time
from tokenizers import Tokenizer

text = open(sys.argv[1], encoding="utf-8").read()
nb = len(text.encode())
lines = text.split("\n")
lines = [l for l in lines if l]
fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../Tests/TetherTokenizersTests/Fixtures")
for name in ["gpt2.json", "llama3.json", "qwen2.json"]:
    tok = Tokenizer.from_file(os.path.join(fixtures, name))
    t0 = time.perf_counter(); n = len(tok.encode(text, add_special_tokens=False).ids); dt = time.perf_counter() - t0
    print(f"HF encode {name}: {nb / 1e6 / dt:.1f} MB/s ({n} tokens)")
tok = Tokenizer.from_file(os.path.join(fixtures, "gpt2.json"))
t0 = time.perf_counter(); enc = tok.encode_batch(lines, add_special_tokens=False); dt = time.perf_counter() - t0
print(f"HF encode_batch gpt2.json, {len(lines)} lines: {nb / 1e6 / dt:.1f} MB/s ({sum(len(e.ids) for e in enc)} tokens)")
