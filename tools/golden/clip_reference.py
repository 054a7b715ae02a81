#!/usr/bin/env python3
"""Independent NumPy reference of CLIP's text side: OpenAI CLIP's tokenizer and the Hugging Face
`CLIPTextModel` forward. Standard library and NumPy only: no `regex`, `ftfy`, `torch` or
`transformers`; the pre-tokenizer and ftfy's text fixes are written out by hand here.

Tokenizer (`clip/simple_tokenizer.py`): `ftfy.fix_text` (every fix it applies to well-formed
text: HTML entities when the line has no '<', C1 controls as Windows-1252, Latin ligatures,
full/half-width forms, curly quotes, line breaks, terminal escapes, control characters, NFC;
repeated until nothing changes; its mojibake repair `fix_encoding` is NOT reproduced),
`html.unescape` twice, strip, whitespace collapsed to one space, lower-case; then the pattern
`<|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+`,
UTF-8 bytes through `bytes_to_unicode`, BPE with `</w>` on the last symbol. Ids: 49406 first,
49407 last, 77 in all (truncation keeps the end token last), padded with 49407.

Text model: token + position embeddings; per layer `x += out_proj(causal_attn(LN1(x)))`,
`x += fc2(act(fc1(LN2(x))))`; final layer norm; pooled = state at the first end token
(`eos_token_id`; HF's legacy `eos_token_id == 2` rule takes the argmax id, the same position).
Forward in float64 on float32 weights.

    python3 tools/golden/clip_reference.py [--golden ../shared/golden]        # validate
    python3 tools/golden/clip_reference.py --make-fixtures [--out DIR]         # write unseen fixtures

Validation prints the id mismatches and max abs errors against `clip_text_tiny.safetensors` (or
the files given) and exits non-zero if an id differs or an error exceeds 1e-4.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import math
import os
import struct
import sys
import unicodedata

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from safetensors_io import read  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
GOLDEN = os.path.normpath(os.path.join(ROOT, "..", "shared", "golden"))
FIXTURES = os.path.join(ROOT, "Tests", "CLIPTextTests", "Fixtures")
VOCAB_NAME = "clip_bpe_simple_vocab_16e6.txt.gz"
SOT, EOT, CONTEXT = 49406, 49407, 77
TOLERANCE = 1e-4

# ----------------------------------------------------------------------------- text cleaning

# Python's str.isspace() set (what `re`'s \s and str.strip() use).
WHITESPACE = set([*range(0x09, 0x0E), *range(0x1C, 0x21), 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
                  0x2028, 0x2029, 0x202F, 0x205F, 0x3000])
CONTROL = set([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F, *range(0x206A, 0x2070), 0xFEFF,
               *range(0xFFF9, 0xFFFD)])
LIGATURES = {0x132: "IJ", 0x133: "ij", 0x149: "\u02bcn", 0x1F1: "DZ", 0x1F2: "Dz", 0x1F3: "dz", 0x1C4: "D\u017d",
             0x1C5: "D\u017e", 0x1C6: "d\u017e", 0x1C7: "LJ", 0x1C8: "Lj", 0x1C9: "lj", 0x1CA: "NJ", 0x1CB: "Nj",
             0x1CC: "nj", 0xFB00: "ff", 0xFB01: "fi", 0xFB02: "fl", 0xFB03: "ffi", 0xFB04: "ffl", 0xFB05: "\u017ft",
             0xFB06: "st"}


def is_space(ch: str) -> bool:
    return ord(ch) in WHITESPACE


def width_fix(ch: str) -> str:
    o = ord(ch)
    if o == 0x3000:
        return " "
    if 0xFF01 <= o < 0xFFF0:
        return unicodedata.normalize("NFKC", ch)
    return ch


def ftfy_entities(text: str) -> str:
    """ftfy's `unescape_html`: `&#?[0-9A-Za-z]{1,24};` through the HTML5 names (plus upper-case
    forms of lower-case names that html.unescape does not know), numeric ones through html.unescape."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text[i] == "&":
            j = i + 1
            if j < n and text[j] == "#":
                j += 1
            k = j
            while k < n and k - j < 24 and text[k].isascii() and text[k].isalnum():
                k += 1
            if k > j and k < n and text[k] == ";":
                entity = text[i:k + 1]
                name = entity[1:]
                replacement = None
                if name in html.entities.html5:
                    replacement = html.entities.html5[name]
                elif name == name.upper() and name.lower() in html.entities.html5 and name.lower() != name \
                        and html.unescape(entity) == entity:
                    replacement = html.entities.html5[name.lower()].upper()
                elif entity.startswith("&#"):
                    unescaped = html.unescape(entity)
                    replacement = entity if ";" in unescaped else unescaped
                if replacement is not None:
                    out.append(replacement)
                    i = k + 1
                    continue
        out.append(text[i])
        i += 1
    return "".join(out)


def remove_terminal_escapes(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\x1b" and i + 1 < len(text) and text[i + 1] == "[":
            j = i + 2
            while j < len(text) and (text[j] == ";" or unicodedata.category(text[j]) == "Nd"):
                j += 1
            if j < len(text) and text[j].isascii() and text[j].isalpha():
                i = j + 1
                continue
        out.append(text[i])
        i += 1
    return "".join(out)


def ftfy_segment(text: str, unescape: bool) -> str:
    while True:
        original = text
        if unescape:
            text = ftfy_entities(text)
        text = "".join(html._invalid_charrefs[ord(c)] if 0x80 <= ord(c) <= 0x9F else c for c in text)
        text = "".join(LIGATURES.get(ord(c), c) for c in text)
        text = "".join(width_fix(c) for c in text)
        text = "".join("'" if ord(c) == 0x2BC or 0x2018 <= ord(c) <= 0x201B else
                       '"' if 0x201C <= ord(c) <= 0x201F else c for c in text)
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n") \
            .replace("\u0085", "\n")
        text = remove_terminal_escapes(text)
        text = "".join(c for c in text if ord(c) not in CONTROL)
        text = unicodedata.normalize("NFC", text)
        if text == original:
            return text


def fix_text(text: str) -> str:
    """`ftfy.fix_text` without `fix_encoding`: line by line; once a line holds '<', no later
    line has its entities decoded (ftfy's 'auto' setting sticks)."""
    out, position, unescape = [], 0, True
    while position < len(text):
        end = text.find("\n", position) + 1 or len(text)
        segment = text[position:end]
        if "<" in segment:
            unescape = False
        out.append(ftfy_segment(segment, unescape))
        position = end
    return "".join(out)


def strip(text: str) -> str:
    start, end = 0, len(text)
    while start < end and is_space(text[start]):
        start += 1
    while end > start and is_space(text[end - 1]):
        end -= 1
    return text[start:end]


def clean(text: str) -> str:
    text = strip(html.unescape(html.unescape(fix_text(text))))
    collapsed, in_space = [], False
    for ch in text:
        if is_space(ch):
            if not in_space:
                collapsed.append(" ")
            in_space = True
        else:
            collapsed.append(ch)
            in_space = False
    return strip("".join(collapsed)).lower()


# ----------------------------------------------------------------------------- pre-tokenizer and BPE

def category(ch: str) -> str:
    return unicodedata.category(ch)[0]


def pre_tokenize(text: str) -> list[str]:
    """The CLIP pattern's findall, alternative by alternative, at each position."""
    tokens, i, n = [], 0, len(text)
    while i < n:
        for special in ("<|startoftext|>", "<|endoftext|>"):
            if text.startswith(special, i):
                tokens.append(special)
                i += len(special)
                break
        else:
            if text[i] == "'":
                # IGNORECASE: after lower-casing, only U+017F (long s) still case-folds onto a letter here.
                folded = text[i + 1:i + 3].replace("\u017f", "s")
                match = next((c for c in ("s", "t", "re", "ve", "m", "ll", "d") if folded.startswith(c)), None)
                if match is not None:
                    tokens.append(text[i:i + 1 + len(match)])
                    i += 1 + len(match)
                    continue
            c = category(text[i])
            if c == "L":
                j = i
                while j < n and category(text[j]) == "L":
                    j += 1
            elif c == "N":
                j = i + 1
            elif not is_space(text[i]):
                j = i
                while j < n and category(text[j]) not in ("L", "N") and not is_space(text[j]):
                    j += 1
            else:
                i += 1
                continue
            tokens.append(text[i:j])
            i = j
    return tokens


def bytes_to_unicode() -> dict[int, str]:
    """Printable bytes map to themselves, the others to U+0100 onwards; the vocabulary lists the
    symbols in this insertion order (printable ones first)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in printable}
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + len(table) - len(printable))
    return table


class Tokenizer:
    def __init__(self, vocabulary_path: str):
        lines = gzip.open(vocabulary_path).read().decode("utf-8").split("\n")
        merges = [tuple(line.split()) for line in lines[1:49152 - 256 - 2 + 1]]
        self.byte_encoder = bytes_to_unicode()
        symbols = list(self.byte_encoder.values())
        vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
        self.encoder = {s: i for i, s in enumerate(vocab)}
        self.ranks = {m: i for i, m in enumerate(merges)}

    def bpe(self, token: str) -> list[str]:
        if token in ("<|startoftext|>", "<|endoftext|>"):
            return [token]
        word = list(token[:-1]) + [token[-1] + "</w>"]
        while len(word) > 1:
            ranked = [(self.ranks.get((a, b), math.inf), k) for k, (a, b) in enumerate(zip(word, word[1:]))]
            best, _ = min(ranked)
            if best == math.inf:
                break
            first, second = next((word[k], word[k + 1]) for r, k in ranked if r == best)
            merged, k = [], 0
            while k < len(word):
                if k + 1 < len(word) and word[k] == first and word[k + 1] == second:
                    merged.append(first + second)
                    k += 2
                else:
                    merged.append(word[k])
                    k += 1
            word = merged
        return word

    def encode(self, text: str) -> list[int]:
        ids = []
        for token in pre_tokenize(clean(text)):
            mapped = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            ids.extend(self.encoder[s] for s in self.bpe(mapped))
        return ids

    def tokenize(self, text: str, context: int = CONTEXT) -> list[int]:
        ids = [SOT] + self.encode(text) + [EOT]
        if len(ids) > context:
            ids = ids[:context]
            ids[-1] = EOT
        return ids + [EOT] * (context - len(ids))


# ----------------------------------------------------------------------------- text model

def layer_norm(x, eps, weight, bias):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


_erf = np.vectorize(math.erf, otypes=[np.float64])

ACTIVATIONS = {
    "quick_gelu": lambda x: x / (1 + np.exp(-1.702 * x)),
    "gelu": lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
    "gelu_new": lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))),
    "gelu_pytorch_tanh": lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))),
}


def encode(config: dict, weights: dict[str, np.ndarray], ids: np.ndarray):
    """`CLIPTextModel(ids)` -> (last_hidden_state [B, n, D], pooler_output [B, D]), float64."""
    w = {k.removeprefix("text_model."): v.astype(np.float64) for k, v in weights.items()}
    batch, n = ids.shape
    d, heads, eps = config["hidden_size"], config["num_attention_heads"], config["layer_norm_eps"]
    act = ACTIVATIONS[config["hidden_act"]]
    hd = d // heads
    x = w["embeddings.token_embedding.weight"][ids] + w["embeddings.position_embedding.weight"][:n]
    causal = np.triu(np.full((n, n), -np.inf), 1)

    def linear(name, v):
        return v @ w[name + ".weight"].T + w[name + ".bias"]

    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layers.{layer}."
        h = layer_norm(x, eps, w[p + "layer_norm1.weight"], w[p + "layer_norm1.bias"])
        q, k, v = (linear(p + f"self_attn.{t}_proj", h).reshape(batch, n, heads, hd).transpose(0, 2, 1, 3)
                   for t in "qkv")
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd) + causal
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        attended = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, n, d)
        x = x + linear(p + "self_attn.out_proj", attended)
        h = layer_norm(x, eps, w[p + "layer_norm2.weight"], w[p + "layer_norm2.bias"])
        x = x + linear(p + "mlp.fc2", act(linear(p + "mlp.fc1", h)))
    x = layer_norm(x, eps, w["final_layer_norm.weight"], w["final_layer_norm.bias"])
    eos = config.get("eos_token_id", EOT)
    if eos == 2:
        positions = ids.argmax(-1)
    else:
        positions = (ids == eos).astype(np.int64).argmax(-1)
    return x, x[np.arange(batch), positions]


# ----------------------------------------------------------------------------- validation

def validate(path: str, vocabulary: str) -> bool:
    tensors, metadata = read(path)
    config = json.loads(metadata["config"])
    captions = json.loads(metadata["captions"])
    ids = tensors["case.input_ids"].astype(np.int64)
    tokenizer = Tokenizer(vocabulary)
    context = ids.shape[1]
    mine = np.array([tokenizer.tokenize(c, context) for c in captions])
    mismatched = int((mine != ids).sum())
    weights = {k[len("weights."):]: v for k, v in tensors.items() if k.startswith("weights.")}
    hidden, pooled = encode(config, weights, ids)
    e1 = float(np.abs(hidden - tensors["expect.last_hidden_state"]).max())
    e2 = float(np.abs(pooled - tensors["expect.pooler_output"]).max())
    ok = mismatched == 0 and e1 <= TOLERANCE and e2 <= TOLERANCE
    print(f"{os.path.basename(path)}: ids {mismatched} mismatches of {ids.size}; "
          f"last_hidden_state {e1:.2e}; pooler_output {e2:.2e} -> {'ok' if ok else 'FAIL'}")
    for caption, row, expected in zip(captions, mine, ids):
        if (row != expected).any():
            print(f"  {caption!r}: {row[:12].tolist()}... expected {expected[:12].tolist()}...")
    return ok


# ----------------------------------------------------------------------------- unseen fixtures

def write_safetensors(path: str, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> int:
    """Like safetensors_io.write, plus F16 (the engine reads F16 weights too)."""
    names = {np.dtype("float32"): "F32", np.dtype("int32"): "I32", np.dtype("float16"): "F16"}
    rank = {"F32": 11, "F16": 10, "I32": 9}
    entries = sorted(((n, names[a.dtype], np.ascontiguousarray(a)) for n, a in tensors.items()),
                     key=lambda e: (-rank[e[1]], e[0]))
    header: dict[str, object] = {"__metadata__": dict(metadata)}
    blobs, offset = [], 0
    for name, dtype, array in entries:
        blob = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    return os.path.getsize(path)


FIXTURE_SPECS = [
    {
        "stem": "clip_text_d16_h2_l3_quickgelu",
        "config": {"vocab_size": 49408, "hidden_size": 16, "intermediate_size": 48, "num_hidden_layers": 3,
                   "num_attention_heads": 2, "max_position_embeddings": 77, "layer_norm_eps": 1e-5,
                   "hidden_act": "quick_gelu", "bos_token_id": 49406, "eos_token_id": 49407, "pad_token_id": 49407},
        "prefix": "text_model.",
        "captions": [
            "Tom &amp; Jerry&#39;s &quot;Big&quot; Day &lt;3 &NTILDE;and&uacute; &amp;amp;lt;",
            "Ｆｕｌｌ－width ＡＢＣ ﬁne ﬂour, ‘single’ and “double” quotes\u2026",
            " ".join(["the quick brown fox jumps over the lazy dog"] * 10),
            "Straße ΣΊΣΥΦΟΣ İstanbul ǅemal — 東京タワー 🐱‍👤 ①②③ ٣٤ x²",
            "don'T we'LL they'VE i'M she'D it'S 'RE ſ'ſ &#x1F600; &#128; &#0; &#xD800; &#99999999;",
            "<|endoftext|> tags <b>bold</b> &amp;amp; a\u00a0b\u2003c\x0bd\x1ee \x1b[31mred\x1b[0m \u200dzwj",
        ],
        "seed": 4101,
    },
    {
        "stem": "clip_text_d24_h3_l1_gelu",
        "config": {"vocab_size": 49408, "hidden_size": 24, "intermediate_size": 40, "num_hidden_layers": 1,
                   "num_attention_heads": 3, "max_position_embeddings": 77, "layer_norm_eps": 1e-6,
                   "hidden_act": "gelu", "bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1},
        "prefix": "",
        "captions": [
            "a small green triangle at the top left",
            "",
            "  Café au lait,\tcrème brûlée\n& naïve façade — ÀÉÎÕÜ  ",
            " ".join(f"item{k}" for k in range(60)),
        ],
        "seed": 4102,
    },
]


def make_fixture(spec: dict, out_dir: str, tokenizer: Tokenizer) -> tuple[str, int]:
    rng = np.random.default_rng(spec["seed"])
    c = spec["config"]
    d, m, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    w: dict[str, np.ndarray] = {}

    def linear(name, rows, cols):
        w[name + ".weight"] = rng.normal(0, 0.15, (rows, cols)).astype(np.float32)
        w[name + ".bias"] = rng.normal(0, 0.05, rows).astype(np.float32)

    def norm(name):
        w[name + ".weight"] = (1 + rng.normal(0, 0.1, d)).astype(np.float32)
        w[name + ".bias"] = rng.normal(0, 0.05, d).astype(np.float32)

    # F16 storage keeps the 49408-row table small; the reference uses the same rounded values.
    w["embeddings.token_embedding.weight"] = rng.normal(0, 0.5, (v, d)).astype(np.float16)
    w["embeddings.position_embedding.weight"] = rng.normal(0, 0.2, (c["max_position_embeddings"], d)).astype(np.float32)
    for layer in range(c["num_hidden_layers"]):
        p = f"encoder.layers.{layer}."
        for t in "qkv":
            linear(p + f"self_attn.{t}_proj", d, d)
        linear(p + "self_attn.out_proj", d, d)
        linear(p + "mlp.fc1", m, d)
        linear(p + "mlp.fc2", d, m)
        norm(p + "layer_norm1")
        norm(p + "layer_norm2")
    norm("final_layer_norm")
    ids = np.array([tokenizer.tokenize(caption) for caption in spec["captions"]], dtype=np.int32)
    hidden, pooled = encode(c, w, ids.astype(np.int64))
    tensors = {f"weights.{spec['prefix']}{k}": a for k, a in w.items()}
    tensors["case.input_ids"] = ids
    tensors["expect.last_hidden_state"] = hidden.astype(np.float32)
    tensors["expect.pooler_output"] = pooled.astype(np.float32)
    path = os.path.join(out_dir, spec["stem"] + ".safetensors")
    metadata = {"config": json.dumps(c), "captions": json.dumps(spec["captions"], ensure_ascii=False)}
    return path, write_safetensors(path, tensors, metadata)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", help="CLIP golden files to check (default: the shared one)")
    parser.add_argument("--golden", default=GOLDEN)
    parser.add_argument("--vocabulary", help=f"merges file (default: {VOCAB_NAME} in --golden)")
    parser.add_argument("--make-fixtures", action="store_true")
    parser.add_argument("--out", default=FIXTURES)
    args = parser.parse_args()
    vocabulary = args.vocabulary or os.path.join(args.golden, VOCAB_NAME)
    if args.make_fixtures:
        ok = validate(os.path.join(args.golden, "clip_text_tiny.safetensors"), vocabulary)
        if not ok:
            return 1
        os.makedirs(args.out, exist_ok=True)
        tokenizer = Tokenizer(vocabulary)
        for spec in FIXTURE_SPECS:
            path, size = make_fixture(spec, args.out, tokenizer)
            ok = validate(path, vocabulary) and ok
            print(f"  {size / 1e6:.2f} MB")
        return 0 if ok else 1
    files = args.files or [os.path.join(args.golden, "clip_text_tiny.safetensors")]
    return 0 if all([validate(path, vocabulary) for path in files]) else 1


if __name__ == "__main__":
    sys.exit(main())
