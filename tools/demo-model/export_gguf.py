#!/usr/bin/python3
"""export_gguf.py: writes a trained checkpoint as a llama-architecture GGUF v3 file.

Tensor names and metadata keys are llama.cpp's. 2-D weights are F16, norms F32.
q/k are written unpermuted: the model was trained with llama.cpp's rope type 0
(adjacent pairs), which is what a llama GGUF means. output.weight is written
explicitly (a copy of the tied embedding) so that readers need no fallback.
"""
import argparse

import torch

import bpe
import gguf_io as G
from model import Config, Model

# Qwen2-Instruct's ChatML template, verbatim.
CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default="hearth-demo")
    args = ap.parse_args()
    ck = torch.load(args.ckpt)
    cfg = Config(**ck["config"])
    model = Model(cfg)
    model.load_state_dict(ck["state"])
    tok = bpe.Tokenizer.load(args.tokenizer)
    assert len(tok.tokens) == cfg.vocab
    A = lambda t: (G.T_ARRAY, t)  # noqa: E731
    U32 = G.T_UINT32
    kvs = [
        ("general.architecture", G.T_STRING, "llama"),
        ("general.name", G.T_STRING, args.name),
        ("general.license", G.T_STRING, "same as hearth"),
        ("general.file_type", U32, 1),  # mostly F16
        ("general.alignment", U32, G.ALIGN),
        ("llama.context_length", U32, cfg.n_ctx),
        ("llama.embedding_length", U32, cfg.n_embd),
        ("llama.block_count", U32, cfg.n_layer),
        ("llama.feed_forward_length", U32, cfg.n_ff),
        ("llama.attention.head_count", U32, cfg.n_head),
        ("llama.attention.head_count_kv", U32, cfg.n_head),
        ("llama.rope.dimension_count", U32, cfg.n_embd // cfg.n_head),
        ("llama.rope.freq_base", G.T_FLOAT32, cfg.rope_base),
        ("llama.attention.layer_norm_rms_epsilon", G.T_FLOAT32, cfg.eps),
        ("llama.vocab_size", U32, cfg.vocab),
        ("tokenizer.ggml.model", G.T_STRING, "gpt2"),
        ("tokenizer.ggml.pre", G.T_STRING, "qwen2"),
        ("tokenizer.ggml.tokens", A(G.T_STRING), tok.tokens),
        ("tokenizer.ggml.token_type", A(G.T_INT32), [tok.token_type(i) for i in range(len(tok.tokens))]),
        ("tokenizer.ggml.merges", A(G.T_STRING), ["%s %s" % m for m in tok.merges]),
        ("tokenizer.ggml.bos_token_id", U32, tok.special["<|endoftext|>"]),
        ("tokenizer.ggml.eos_token_id", U32, tok.special["<|im_end|>"]),
        ("tokenizer.ggml.eot_token_id", U32, tok.special["<|im_end|>"]),
        ("tokenizer.ggml.padding_token_id", U32, tok.special["<|endoftext|>"]),
        ("tokenizer.ggml.add_bos_token", G.T_BOOL, False),
        ("tokenizer.chat_template", G.T_STRING, CHAT_TEMPLATE),
    ]
    tensors = [(n, a, G.GGML_F16 if a.ndim == 2 else G.GGML_F32) for n, a in __import__("model").gguf_tensors(model)]
    size = G.write(args.out, kvs, tensors)
    print("wrote %s: %d bytes, %d tensors, step %d, loss %.4f" % (args.out, size, len(tensors), ck["step"], ck["loss"]))


if __name__ == "__main__":
    main()
