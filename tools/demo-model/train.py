#!/usr/bin/python3
"""train.py: trains the demo model on the corpus with torch on the CPU.

Conversations are tokenized as ChatML (control tokens by id), packed into rows of
n_ctx tokens that each start at a conversation boundary (conversations separated by
<|endoftext|>), and the loss is taken on the assistant replies (content and the
closing <|im_end|>) only. Deterministic from --seed given the same torch build and
thread count. Writes a checkpoint (state_dict + config + log) every --save-every steps
and at the end.
"""
import argparse
import json
import math
import random
import time

import numpy as np
import torch

import bpe
from model import Config, Model


def build_rows(tok, corpus, n_ctx, seed):
    eot = tok.special["<|endoftext|>"]
    convs = []
    prefix = len(tok.encode("assistant\n"))
    with open(corpus) as f:
        for line in f:
            msgs = json.loads(line)["messages"]
            ids, mask = [], []
            for m in msgs:
                seg = tok.encode_chat([m])  # im_start, role\ncontent, im_end, \n
                w = [0] * len(seg)
                if m["role"] == "assistant":
                    assert not m["content"][:1].isspace()
                    # content tokens and the closing <|im_end|> (seg[-2])
                    for j in range(1 + prefix, len(seg) - 1):
                        w[j] = 1
                ids += seg
                mask += w
            ids.append(eot)
            mask.append(0)
            convs.append((ids, mask))
    random.Random(seed).shuffle(convs)
    X, M = [], []
    cur, cm = [], []
    for ids, mask in convs:
        if len(ids) > n_ctx + 1:
            continue
        if len(cur) + len(ids) > n_ctx + 1:
            pad = n_ctx + 1 - len(cur)
            X.append(cur + [eot] * pad)
            M.append(cm + [0] * pad)
            cur, cm = [], []
        cur += ids
        cm += mask
    return torch.tensor(X, dtype=torch.long), torch.tensor(M, dtype=torch.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--steps", type=int, default=1600)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-embd", type=int, default=128)
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--n-ff", type=int, default=384)
    ap.add_argument("--n-ctx", type=int, default=256)
    ap.add_argument("--save-every", type=int, default=100)
    ap.add_argument("--stop-after", type=int, default=0,
                    help="stop (and save) after this many steps, keeping --steps' schedule")
    ap.add_argument("--init", help="start from this checkpoint's weights (a second phase)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    tok = bpe.Tokenizer.load(args.tokenizer)
    X, M = build_rows(tok, args.corpus, args.n_ctx, args.seed)
    n_rows = X.shape[0]
    print("rows %d x %d tokens, %.1f%% of targets in the loss" % (
        n_rows, args.n_ctx, 100.0 * M[:, 1:].mean().item()), flush=True)

    cfg = Config(len(tok.tokens), args.n_embd, args.n_layer, args.n_head, args.n_ff, args.n_ctx)
    init = torch.load(args.init) if args.init else None
    if init:
        cfg = Config(**init["config"])
    model = Model(cfg)
    if init:
        model.load_state_dict(init["state"])
        print("starting from %s (step %d, loss %.4f)" % (args.init, init["step"], init["loss"]), flush=True)
    n_params = sum(p.numel() for p in model.parameters())
    print("params %d" % n_params, flush=True)
    decay = [p for p in model.parameters() if p.dim() == 2]
    nodecay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    gen = torch.Generator().manual_seed(args.seed)
    perm = torch.randperm(n_rows, generator=gen)
    pos = 0
    log = []
    t0 = time.time()
    ema = None

    def save(step, loss):
        torch.save({"config": cfg.to_dict(), "state": model.state_dict(), "step": step,
                    "loss": loss, "params": n_params, "args": vars(args), "log": log}, args.out)

    last = args.stop_after if 0 < args.stop_after < args.steps else args.steps
    for step in range(1, last + 1):
        if step <= args.warmup:
            lr = args.lr * step / args.warmup
        else:
            p = (step - args.warmup) / max(1, args.steps - args.warmup)
            lr = args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p)))
        for g in opt.param_groups:
            g["lr"] = lr
        if pos + args.batch > n_rows:
            perm = torch.randperm(n_rows, generator=gen)
            pos = 0
        idx = perm[pos:pos + args.batch]
        pos += args.batch
        x, y, w = X[idx, :-1], X[idx, 1:], M[idx, 1:]
        logits = model(x)
        nll = torch.nn.functional.cross_entropy(logits.reshape(-1, cfg.vocab), y.reshape(-1),
                                                reduction="none")
        loss = (nll * w.reshape(-1)).sum() / w.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        lv = loss.item()
        ema = lv if ema is None else 0.95 * ema + 0.05 * lv
        if step % 25 == 0 or step == 1:
            el = time.time() - t0
            log.append((step, round(ema, 4), round(el, 1)))
            print("step %d loss %.4f (ema %.4f) lr %.2e %.2f steps/s, %.0f s" % (
                step, lv, ema, lr, step / el, el), flush=True)
        if step % args.save_every == 0:
            save(step, ema)
    save(last, ema)
    print("done: %d steps (of a %d-step schedule), final loss (ema) %.4f, %.0f s" % (
        last, args.steps, ema, time.time() - t0))


if __name__ == "__main__":
    main()
