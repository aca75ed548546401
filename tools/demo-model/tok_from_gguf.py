#!/usr/bin/python3
"""tok_from_gguf.py: writes the tokenizer of an existing demo-family GGUF as bpe.py's JSON.

The 256-wide demo model (models/hearth-demo-256.gguf) must share its vocabulary,
merges and special ids with models/hearth-demo.gguf exactly (speculative decoding
pairs the two), so it reuses that file's merges instead of retraining the BPE.
Checks that the token list follows from the merges in bpe.py's layout.

Usage: tok_from_gguf.py MODEL.gguf OUT.json
"""
import sys

import bpe
import gguf_io as G


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    kv, _ = G.read(sys.argv[1])
    assert kv["tokenizer.ggml.model"] == "gpt2" and kv["tokenizer.ggml.pre"] == "qwen2"
    tok = bpe.Tokenizer([tuple(m.split(" ")) for m in kv["tokenizer.ggml.merges"]])
    assert tok.tokens == kv["tokenizer.ggml.tokens"], "token list does not follow from the merges"
    for name, key in (("<|endoftext|>", "bos"), ("<|im_end|>", "eos")):
        assert tok.special[name] == kv["tokenizer.ggml.%s_token_id" % key]
    tok.save(sys.argv[2])
    print("%s: %d tokens, %d merges from %s" % (sys.argv[2], len(tok.tokens), len(tok.merges), sys.argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
