#!/usr/bin/python3
"""bpe.py: byte-level BPE for the demo model (GPT-2 byte mapping, qwen2 pre-tokenizer).

Vocabulary layout: ids 0..255 are the single bytes (id == byte value, written as
GPT-2's byte-to-unicode characters), then one token per merge in rank order, then the
control tokens <|endoftext|>, <|im_start|>, <|im_end|>. Encoding applies merges by
rank, lowest first, inside each pre-token; control tokens are never produced from
text (callers insert them by id).

The pre-tokenizer is llama.cpp's "qwen2" regex
  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+
with \\p{L} and \\p{N} restricted to ASCII, which is exact for ASCII text (the corpus is
ASCII; encode() refuses anything else).

Usage: bpe.py train CORPUS.jsonl OUT.json [--vocab N]
"""
import collections
import json
import re
import sys

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

PRE_RE = re.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)"
    r"|[^\r\nA-Za-z0-9]?[A-Za-z]+"
    r"|[0-9]"
    r"| ?[^\sA-Za-z0-9]+[\r\n]*"
    r"|\s*[\r\n]+"
    r"|\s+(?!\S)"
    r"|\s+")


def bytes_to_unicode():
    """GPT-2's reversible map from bytes to printable unicode characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + \
        list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


B2U = bytes_to_unicode()
U2B = {c: b for b, c in B2U.items()}


def pretokenize(text):
    if not text.isascii():
        raise ValueError("bpe.py handles ASCII text only: %r" % text[:40])
    out = PRE_RE.findall(text)
    assert "".join(out) == text
    return out


def chat_segments(messages, add_generation_prompt=False):
    """ChatML as a list of items: str (text to encode) or int-like special names.

    Returns a list of ("text", s) / ("special", name)."""
    segs = []
    for m in messages:
        segs += [("special", "<|im_start|>"), ("text", m["role"] + "\n" + m["content"]),
                 ("special", "<|im_end|>"), ("text", "\n")]
    if add_generation_prompt:
        segs += [("special", "<|im_start|>"), ("text", "assistant\n")]
    return segs


def train(word_counts, n_merges):
    """Classic BPE training on pre-token counts; returns the merges as (a, b) pairs."""
    words = {tuple(B2U[b] for b in w.encode()): c for w, c in word_counts.items()}
    merges = []
    for _ in range(n_merges):
        pairs = collections.Counter()
        for w, c in words.items():
            for i in range(len(w) - 1):
                pairs[(w[i], w[i + 1])] += c
        if not pairs:
            break
        # Ties broken by the pair itself so training is deterministic.
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        if pairs[best] < 2:
            break
        merges.append(best)
        a, b = best
        nw = {}
        for w, c in words.items():
            if len(w) < 2:
                nw[w] = nw.get(w, 0) + c
                continue
            out, i = [], 0
            while i < len(w):
                if i < len(w) - 1 and w[i] == a and w[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            t = tuple(out)
            nw[t] = nw.get(t, 0) + c
        words = nw
    return merges


class Tokenizer:
    def __init__(self, merges):
        self.merges = [tuple(m) for m in merges]
        self.ranks = {m: i for i, m in enumerate(self.merges)}
        self.tokens = [B2U[b] for b in range(256)] + [a + b for a, b in self.merges] + SPECIALS
        self.ids = {}
        for i, t in enumerate(self.tokens):
            self.ids.setdefault(t, i)  # a merge may repeat a token string; first id wins
        self.special = {s: len(self.tokens) - len(SPECIALS) + k for k, s in enumerate(SPECIALS)}
        self.cache = {}

    @staticmethod
    def load(path):
        with open(path) as f:
            return Tokenizer(json.load(f)["merges"])

    def save(self, path):
        with open(path, "w") as f:
            json.dump({"merges": [list(m) for m in self.merges]}, f)

    def token_type(self, i):
        return 3 if i >= len(self.tokens) - len(SPECIALS) else 1

    def _bpe(self, word):
        parts = [B2U[b] for b in word.encode()]
        while len(parts) > 1:
            best, best_rank = None, None
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best is None:
                break
            a, b = parts[best], parts[best + 1]
            out, i = [], 0
            while i < len(parts):
                if i < len(parts) - 1 and parts[i] == a and parts[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(parts[i])
                    i += 1
            parts = out
        return [self.ids[p] for p in parts]

    def encode(self, text):
        ids = []
        for w in pretokenize(text):
            r = self.cache.get(w)
            if r is None:
                r = self._bpe(w)
                self.cache[w] = r
            ids += r
        return ids

    def encode_chat(self, messages, add_generation_prompt=False):
        ids = []
        for kind, v in chat_segments(messages, add_generation_prompt):
            ids += [self.special[v]] if kind == "special" else self.encode(v)
        return ids

    def decode(self, ids):
        bs = bytearray()
        for i in ids:
            t = self.tokens[i]
            if self.token_type(i) == 3:
                bs += t.encode()
            else:
                bs += bytes(U2B[c] for c in t)
        return bs.decode("utf-8", errors="replace")


def corpus_word_counts(path):
    counts = collections.Counter()
    with open(path) as f:
        for line in f:
            for kind, v in chat_segments(json.loads(line)["messages"]):
                if kind == "text":
                    counts.update(pretokenize(v))
    return counts


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["train"])
    ap.add_argument("corpus")
    ap.add_argument("out")
    ap.add_argument("--vocab", type=int, default=1024)
    args = ap.parse_args()
    counts = corpus_word_counts(args.corpus)
    merges = train(counts, args.vocab - 256 - len(SPECIALS))
    tok = Tokenizer(merges)
    tok.save(args.out)
    print("tokenizer: %d pre-token types, %d merges, vocab %d" % (len(counts), len(merges), len(tok.tokens)))


if __name__ == "__main__":
    sys.exit(main())
