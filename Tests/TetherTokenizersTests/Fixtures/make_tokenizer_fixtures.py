"""Make the TetherTokenizers test fixtures with the Hugging Face `tokenizers` library.

    pip install tokenizers      # made with 0.23.3
    python3 make_tokenizer_fixtures.py

Trains two small byte-level BPE tokenizers on a corpus written below (no downloads), saves
them, and dumps the library's encodings of a set of tricky strings:

- gpt2.json: GPT-2 style: ByteLevel pre-tokenizer with the GPT-2 regex, ByteLevel decoder and
  post-processor, special token <|endoftext|>, plus added tokens "<mask>" (lstrip, non-special)
  and "tether" (normalized, non-special). Merges in the pair form.
- gpt2_vocab.json + gpt2_merges.txt: the same model as GPT-2's two files (merges as "a b").
- gpt2_prefix.json: gpt2.json with ByteLevel(add_prefix_space=True).
- llama3.json: Llama-3 style: Sequence[Split(Llama-3 regex), ByteLevel(use_regex=False)],
  ignore_merges, TemplateProcessing that adds <|begin_of_text|>, header/eot special tokens.
  Merges rewritten into the string form ("a b") to cover that form too.
- qwen2.json: Qwen2 style: NFC normalizer, Sequence[Split(Qwen2 regex: one digit per piece),
  ByteLevel], special tokens <|endoftext|>, <|im_start|>, <|im_end|>, plus "<R>" (special,
  rstrip) and "<W>" (special, single_word). No post-processor.
- corpus.json: the training corpus as a list of texts (the Swift trainer is checked against
  gpt2.json and llama3.json).
- cases.json: {tokenizer file: [{text, ids, ids_plain, decoded, decoded_skip}]}, where ids are with
  special tokens added by the post-processor, ids_plain without, decoded = decode(ids) and
  decoded_skip = decode(ids, skip_special_tokens=True). Keys single_id_decodes / byte_pair_decodes
  hold llama3.json decodings of each single id and of random id triples (lossy UTF-8);
  llama3_pairs holds pair encodings (text "a\0b", ids, and type ids in ids_plain).
"""
import json
import os
import random

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

HERE = os.path.dirname(os.path.abspath(__file__))

QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def corpus():
    base = [
        "The quick brown fox jumps over the lazy dog. It's a dog's life, isn't it?",
        "We'll see what they've done; you're right, I'm sure he'd agree.",
        "Numbers: 0 1 12 123 1234 12345 3.14159 2,718,281 and 1e-10 or 0x7f.",
        "def tokenize(text):\n    return [t for t in text.split()]\n\n",
        "Alignment of language models on CPUs: reward, policy, value, KL.",
        "naïve café résumé façade über straße Æsir",
        "日本語のテキストを分割します。東京は大きい。",
        "Привет, мир! Как дела? Всё хорошо.",
        "Ελληνικά γράμματα και αριθμοί",
        "مرحبا بالعالم",
        "हिन्दी में पाठ",
        "emoji 😀 👍🏽 🇫🇷 👨‍👩‍👧 ❤️",
        "tabs\tand  double  spaces   and\r\nwindows lines\n\n\nparagraphs",
        "<html><body class=\"x\">Hello &amp; goodbye</body></html>",
        "hello world, hello tether, HELLO WORLD!!!",
    ]
    rng = random.Random(0)
    lines = []
    for i in range(300):
        s = base[i % len(base)]
        words = s.split(" ")
        rng.shuffle(words)
        lines.append(" ".join(words) if i % 3 else s)
    return lines


CASES = [
    "", " ", "a", "'", "''s", "Hello world", " Hello world", "Hello  world",
    "I'm don't THEY'RE she'LL we'Ve it'S you'd '",
    "1234567890 12 123 1234 3.14159 12,345,678 ½ ² ٣٤٥ Ⅻ",
    "naïve café", "e\u0301 combining", "日本語のテキスト", "Привет мир", "مرحبا", "हिन्दी",
    "👍🏽 family: 👨‍👩‍👧‍👦 flag 🇫🇷 ❤️",
    "a   b", "   leading", "trailing   ", "\t\ttabs\t", "a \n\n b", "line\r\nnext\r\n", "\n\n\n", " \n ",
    "x\u00a0y\u3000z\u2028w\u0085v", "  \u00a0 x",
    "Hello<|endoftext|>world", "<|endoftext|><|endoftext|>", "a <mask> b  <mask>c", "<mask>",
    "tether tethers Tether", "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "text <|begin_of_text|> inside", "<|endoftext", "(hello) [world] {x}", "$100!!! ... ---",
    "def f(x):\n    return x\n", "MiXeD CaSe'S 'LL", "ſ'S 'ſ",
    "A\u030angstr\u00f6m \u212b", "a <R>  b <R>\n\nc", "x<W>y a <W> b <W>", "_<W>_ 1<W>",
    "<|im_start|>user\nHi<|im_end|>\n",
]


def random_cases(n):
    rng = random.Random(1234)
    pools = [
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", " ", "  \t\n\r",
        ".,;:!?'\"()[]{}-_/\\@#$%^&*+=<>|~`", "éèêëàâäôöûüçñßÆ", "日本語中文字漢",
        "абвгдеёжзийклмн", "αβγδεζηθ", "😀👍🏽🇫🇷❤️👨‍👩‍👧", "\u00a0\u3000\u2028\u0085",
        "١٢٣٤٥٦", "ⅫⅣ½²",
    ]
    out = []
    for _ in range(n):
        k = rng.randint(1, 40)
        s = "".join(rng.choice(rng.choice(pools)) for _ in range(k))
        out.append(s)
    return out


def train(pre, special, vocab_size, ignore_merges=False):
    tok = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    tok.pre_tokenizer = pre
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=special,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus(), trainer)
    return tok


def dump(tok, texts):
    rows = []
    for t in texts:
        ids = tok.encode(t).ids
        plain = tok.encode(t, add_special_tokens=False).ids
        rows.append({"text": t, "ids": ids, "ids_plain": plain,
                     "decoded": tok.decode(ids, skip_special_tokens=False),
                     "decoded_skip": tok.decode(ids, skip_special_tokens=True)})
    return rows


def main():
    texts = CASES + random_cases(60)
    with open(os.path.join(HERE, "corpus.json"), "w") as f:  # for the trainer-parity test
        json.dump(corpus(), f, ensure_ascii=False, indent=0)
    cases = {}

    gpt2 = train(pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True), ["<|endoftext|>"], 500)
    gpt2.post_processor = processors.ByteLevel(trim_offsets=False)
    gpt2.add_tokens([AddedToken("<mask>", lstrip=True, special=False, normalized=False),
                     AddedToken("tether", normalized=True, special=False)])
    gpt2.save(os.path.join(HERE, "gpt2.json"))
    cases["gpt2.json"] = dump(gpt2, texts)
    gpt2.model.save(HERE, "gpt2")  # gpt2-vocab.json, gpt2-merges.txt
    os.replace(os.path.join(HERE, "gpt2-vocab.json"), os.path.join(HERE, "gpt2_vocab.json"))
    os.replace(os.path.join(HERE, "gpt2-merges.txt"), os.path.join(HERE, "gpt2_merges.txt"))
    model_only = Tokenizer.from_file(os.path.join(HERE, "gpt2.json"))
    # vocab.json + merges.txt carry no added tokens: dump the plain model for those.
    plain = Tokenizer(models.BPE.from_file(os.path.join(HERE, "gpt2_vocab.json"),
                                           os.path.join(HERE, "gpt2_merges.txt")))
    plain.pre_tokenizer = model_only.pre_tokenizer
    plain.decoder = decoders.ByteLevel()
    cases["gpt2_vocab.json"] = dump(plain, texts)

    gpt2.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
    gpt2.save(os.path.join(HERE, "gpt2_prefix.json"))
    cases["gpt2_prefix.json"] = dump(gpt2, texts)

    special = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    llama = train(pre, special, 700, ignore_merges=True)
    bos = llama.token_to_id("<|begin_of_text|>")
    llama.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B:1",
        special_tokens=[("<|begin_of_text|>", bos)])
    path = os.path.join(HERE, "llama3.json")
    llama.save(path)
    with open(path) as f:
        j = json.load(f)
    j["model"]["merges"] = [" ".join(m) if isinstance(m, list) else m for m in j["model"]["merges"]]
    with open(path, "w") as f:
        json.dump(j, f, ensure_ascii=False, indent=1)
    llama = Tokenizer.from_file(path)
    cases["llama3.json"] = dump(llama, texts)
    # Pairs through the pair template: ids in "ids", type ids in "ids_plain".
    cases["llama3_pairs"] = [{"text": a + "\u0000" + b, "ids": e.ids, "ids_plain": e.type_ids, "decoded": "", "decoded_skip": ""}
                             for a, b in [("Hello world", "It's 42"), ("", "x"), ("a\n\nb", "")]
                             for e in [llama.encode(a, b)]]

    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    qwen = Tokenizer(models.BPE())
    qwen.normalizer = normalizers.NFC()
    qwen.pre_tokenizer = pre
    qwen.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=450, min_frequency=2, special_tokens=special,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    qwen.train_from_iterator(corpus(), trainer)
    qwen.add_special_tokens([AddedToken("<R>", rstrip=True, special=True, normalized=False),
                             AddedToken("<W>", single_word=True, special=True, normalized=False)])
    qwen.save(os.path.join(HERE, "qwen2.json"))
    cases["qwen2.json"] = dump(qwen, texts)

    # Lossy UTF-8 decoding of every single id (partial byte sequences become U+FFFD).
    cases["single_id_decodes"] = [{"text": "", "ids": [i], "ids_plain": [], "decoded": llama.decode([i], skip_special_tokens=False),
                                   "decoded_skip": llama.decode([i], skip_special_tokens=True)}
                                  for i in range(llama.get_vocab_size())]
    cases["byte_pair_decodes"] = [{"text": "", "ids": p, "ids_plain": [], "decoded": llama.decode(p, skip_special_tokens=False),
                                   "decoded_skip": llama.decode(p, skip_special_tokens=True)}
                                  for p in ([random.Random(5 + k).randrange(700) for _ in range(3)] for k in range(300))]

    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump(cases, f, ensure_ascii=False, indent=0)


if __name__ == "__main__":
    main()
