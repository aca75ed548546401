"""model.py: the demo model in torch, with llama.cpp's llama-architecture math.

RMSNorm (x / sqrt(mean(x^2) + eps) * w), rotary embedding in llama.cpp's "normal"
mode (rope type 0: pairs (x[2i], x[2i+1]) of each head rotated by pos * base^(-2i/d)),
causal multi-head attention scaled by 1/sqrt(head_dim), SwiGLU feed-forward
(down(silu(gate(x)) * up(x))), final RMSNorm and an output projection tied to the
token embedding. Because rope works on adjacent pairs here, q/k weights are written
to GGUF as they are (no HF-style permutation).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Config:
    def __init__(self, vocab, n_embd=256, n_layer=4, n_head=8, n_ff=688, n_ctx=256,
                 rope_base=10000.0, eps=1e-5):
        self.vocab, self.n_embd, self.n_layer, self.n_head = vocab, n_embd, n_layer, n_head
        self.n_ff, self.n_ctx, self.rope_base, self.eps = n_ff, n_ctx, rope_base, eps

    def to_dict(self):
        return dict(self.__dict__)


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(n_ctx, head_dim, base):
    inv = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    ang = torch.arange(n_ctx, dtype=torch.float64)[:, None] * inv[None, :]
    return torch.cos(ang).float(), torch.sin(ang).float()  # (n_ctx, head_dim/2)


def apply_rope(x, cos, sin):
    # x: (B, H, T, D); pairs are adjacent elements (llama.cpp rope type 0).
    B, H, T, D = x.shape
    xp = x.view(B, H, T, D // 2, 2)
    x0, x1 = xp[..., 0], xp[..., 1]
    c, s = cos[:T], sin[:T]
    return torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).view(B, H, T, D)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg.n_embd
        self.n_head = cfg.n_head
        self.attn_norm = RMSNorm(d, cfg.eps)
        self.wq = nn.Linear(d, d, bias=False)
        self.wk = nn.Linear(d, d, bias=False)
        self.wv = nn.Linear(d, d, bias=False)
        self.wo = nn.Linear(d, d, bias=False)
        self.ffn_norm = RMSNorm(d, cfg.eps)
        self.w_gate = nn.Linear(d, cfg.n_ff, bias=False)
        self.w_up = nn.Linear(d, cfg.n_ff, bias=False)
        self.w_down = nn.Linear(cfg.n_ff, d, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, D = x.shape
        H = self.n_head
        hd = D // H
        h = self.attn_norm(x)
        q = self.wq(h).view(B, T, H, hd).transpose(1, 2)
        k = self.wk(h).view(B, T, H, hd).transpose(1, 2)
        v = self.wv(h).view(B, T, H, hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
        att = att.masked_fill(mask[:T, :T], float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, D)
        x = x + self.wo(y)
        h = self.ffn_norm(x)
        return x + self.w_down(F.silu(self.w_gate(h)) * self.w_up(h))


class Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab, cfg.n_embd)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.norm = RMSNorm(cfg.n_embd, cfg.eps)
        cos, sin = rope_tables(cfg.n_ctx, cfg.n_embd // cfg.n_head, cfg.rope_base)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.register_buffer("mask", torch.triu(torch.ones(cfg.n_ctx, cfg.n_ctx, dtype=torch.bool), 1),
                             persistent=False)
        for n, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02
                if n.endswith("wo.weight") or n.endswith("w_down.weight"):
                    std = 0.02 / math.sqrt(2 * cfg.n_layer)
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx):
        x = self.tok(idx)
        for b in self.blocks:
            x = b(x, self.cos, self.sin, self.mask)
        return self.norm(x) @ self.tok.weight.t()  # tied output


def gguf_tensors(model):
    """(name, numpy array in torch layout (rows, row_len)) in llama.cpp naming."""
    sd = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    out = [("token_embd.weight", sd["tok.weight"])]
    names = [("attn_norm", "attn_norm.weight"), ("attn_q", "wq.weight"), ("attn_k", "wk.weight"),
             ("attn_v", "wv.weight"), ("attn_output", "wo.weight"), ("ffn_norm", "ffn_norm.weight"),
             ("ffn_gate", "w_gate.weight"), ("ffn_up", "w_up.weight"), ("ffn_down", "w_down.weight")]
    for i in range(model.cfg.n_layer):
        for g, t in names:
            out.append(("blk.%d.%s.weight" % (i, g), sd["blocks.%d.%s" % (i, t)]))
    out.append(("output_norm.weight", sd["norm.weight"]))
    out.append(("output.weight", sd["tok.weight"]))
    return out
