#!/usr/bin/python3
"""quant_texts.py: the texts `hearth quantize` and `hearth imatrix` use on the demo models.

Conversations drawn by corpus.py's generator with seeds other than the training
corpus's (so the same distribution, other draws), written as the ChatML text the
models see (the template's default system message on every conversation):
  models/quant-eval.txt   held-out text for the accuracy budget (seed 4242)
  models/quant-calib.txt  calibration text for `hearth imatrix` (seed 777)

Usage: quant_texts.py OUT_EVAL OUT_CALIB [--n N]
"""
import argparse
import random

import corpus

SYSTEM = "You are a helpful assistant."


def render(msgs):
    if not msgs or msgs[0]["role"] != "system":
        msgs = [{"role": "system", "content": SYSTEM}] + msgs
    return "".join("<|im_start|>%s\n%s<|im_end|>\n" % (m["role"], m["content"]) for m in msgs)


def write(path, seed, n):
    rng = random.Random(seed)
    with open(path, "w") as f:
        for _ in range(n):
            f.write(render(corpus.conversation(rng)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("eval_out")
    ap.add_argument("calib_out")
    ap.add_argument("--n", type=int, default=150, help="conversations per file")
    args = ap.parse_args()
    write(args.eval_out, 4242, args.n)
    write(args.calib_out, 777, args.n)


if __name__ == "__main__":
    main()
