#!/usr/bin/env python3
"""make_bad_gguf.py: writes the hand-made GGUF files in tests/data/.

One small bad file per rejection path of the GGUF reader (bad_*.gguf), a few
valid but unusual files (good_*.gguf: v2, nested arrays, no padding after a
vocab-only header, ...), and the manifest gguf_cases.tsv that
tests/gguf/test_gguf_parse.c reads:

    file <TAB> expected status (OK, FORMAT, UNSUPPORTED, LIMIT) <TAB> text the
    error message must contain (empty for OK)

and load_cases.tsv, for files that parse but that loading a model or a
tokenizer must refuse (tests/model/test_load_cases.c):

    file <TAB> loader (model, tokenizer) <TAB> status <TAB> text

Run it from anywhere: python3 tests/data/make_bad_gguf.py. The output is
deterministic; the generated files are committed.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# Value types (GGUF spec) and tensor types (ggml).
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
T_F32, T_F16, T_Q4_0, T_Q8_0, T_Q8_1 = 0, 1, 2, 8, 9
T_IQ2_XXS, T_I8, T_TQ1_0, T_MXFP4 = 16, 24, 34, 39


def u32(v):
    return struct.pack("<I", v)


def u64(v):
    return struct.pack("<Q", v % (1 << 64))


def i64(v):
    return struct.pack("<q", v)


def gstr(s):
    if isinstance(s, str):
        s = s.encode()
    return u64(len(s)) + s


def kv(key, vtype, payload):
    """One metadata entry; payload is the already-encoded value."""
    return gstr(key) + u32(vtype) + payload


def kv_u32(key, v):
    return kv(key, U32, u32(v))


def kv_str(key, v):
    return kv(key, STR, gstr(v))


def tinfo(name, dims, ttype, offset):
    return gstr(name) + u32(len(dims)) + b"".join(i64(d) for d in dims) + u32(ttype) + u64(offset)


def header(n_tensors, n_kv, version=3):
    return b"GGUF" + u32(version) + u64(n_tensors) + u64(n_kv)


def pad(b, align=32):
    return b + b"\0" * ((-len(b)) % align)


def gguf(kvs=(), tensors=(), data=b"", align=32, version=3, n_tensors=None, n_kv=None):
    """A whole file: header, kvs, tensor infos, padding, data."""
    body = header(len(tensors) if n_tensors is None else n_tensors,
                  len(kvs) if n_kv is None else n_kv, version)
    body += b"".join(kvs) + b"".join(tensors)
    return pad(body, align) + data


ARCH = kv_str("general.architecture", "llama")
F32x8 = struct.pack("<8f", *range(8))  # data of an F32 [8] tensor (32 bytes)

cases = []  # (file, status, expected text, bytes)


def case(name, status, text, data):
    cases.append((name, status, text, data))


# ---- header ------------------------------------------------------------------
case("bad_empty.gguf", "FORMAT", "empty file", b"")
case("bad_short.gguf", "FORMAT", "header: not a GGUF file: only 3 bytes", b"GGU")
case("bad_magic.gguf", "FORMAT", "not a GGUF file: magic 47 47 4d 4c",
     b"GGML" + u32(3) + u64(0) + u64(0))
case("bad_version1.gguf", "UNSUPPORTED", "GGUF version 1 is not supported", header(0, 0, 1))
case("bad_version99.gguf", "UNSUPPORTED", "GGUF version 99 is not supported", header(0, 0, 99))
case("bad_bigendian.gguf", "UNSUPPORTED", "big-endian GGUF (version 3) is not supported",
     b"GGUF" + struct.pack(">I", 3) + struct.pack(">Q", 0) + struct.pack(">Q", 0))
case("bad_trunc_header.gguf", "FORMAT", "header: tensor count truncated",
     b"GGUF" + u32(3) + b"\0\0\0\0")
case("bad_trunc_kvcount.gguf", "FORMAT", "header: kv count truncated: file ends (2 bytes left) (at offset 16)",
     b"GGUF" + u32(3) + u64(0) + b"\0\0")
case("bad_tensor_count_limit.gguf", "LIMIT", "tensor count 1099511627776 exceeds the limit",
     header(1 << 40, 0))
case("bad_kv_count_limit.gguf", "LIMIT", "kv count 9223372036854775808 exceeds the limit",
     header(0, 1 << 63))
case("bad_counts_fit.gguf", "FORMAT", "tensor count 10 and kv count 1000 cannot fit",
     gguf([ARCH], n_tensors=10, n_kv=1000))

# ---- metadata ------------------------------------------------------------------
case("bad_key_len.gguf", "FORMAT", "kv 1: key length 4096 exceeds the 13 bytes left (at offset 69)",
     header(0, 2) + ARCH + u64(4096) + b"x" * 13)
case("bad_key_limit.gguf", "LIMIT", "kv 0: key length 70000 exceeds the limit 65535 (at offset 24)",
     header(0, 1) + u64(70000) + b"x" * 64)
case("bad_key_nul.gguf", "FORMAT", "kv 0: key contains a NUL byte",
     gguf([kv_u32("a\0b", 1)]))
case("bad_dup_key.gguf", "FORMAT",
     "key 'general.architecture': duplicate key (first at offset 24) (at offset 69)",
     gguf([ARCH, ARCH]))
case("bad_value_type.gguf", "FORMAT", "key 'x': value type 13 out of range 0..12 (at offset 33)",
     gguf([kv("x", 13, u32(0))]))
case("bad_trunc_value.gguf", "FORMAT", "key 'x': value truncated",
     header(0, 1) + gstr("x") + u32(U64) + b"\1\2\3")
case("bad_str_len.gguf", "FORMAT", "key 'general.name': string value length 100 exceeds the",
     header(0, 1) + gstr("general.name") + u32(STR) + u64(100) + b"short")
case("bad_str_limit.gguf", "LIMIT", "key 'general.name': string value length 1099511627776 exceeds the limit",
     header(0, 1) + gstr("general.name") + u32(STR) + u64(1 << 40) + b"short")
case("bad_arr_len.gguf", "FORMAT", "key 'a': array length 1000 of u32 (4+ bytes each) exceeds the",
     header(0, 1) + gstr("a") + u32(ARR) + u32(U32) + u64(1000) + u32(1) * 10)
case("bad_arr_limit.gguf", "LIMIT", "key 'a': array length 1099511627776 exceeds the limit",
     header(0, 1) + gstr("a") + u32(ARR) + u32(U8) + u64(1 << 40) + b"\0" * 32)
case("bad_arr_str_count.gguf", "FORMAT", "key 'a': array length 100 of str (8+ bytes each)",
     header(0, 1) + gstr("a") + u32(ARR) + u32(STR) + u64(100) + gstr("x") * 3)
case("bad_arr_elem_type.gguf", "FORMAT", "key 'a': array element type 77 out of range",
     gguf([kv("a", ARR, u32(77) + u64(0))]))
case("bad_arr_str_elem.gguf", "FORMAT", "key 'tokenizer.ggml.tokens': string 2 length 999 exceeds the",
     header(0, 1) + gstr("tokenizer.ggml.tokens") + u32(ARR) + u32(STR) + u64(3) + gstr("a") +
     gstr("b") + u64(999) + b"c" * 20)


def nested(depth):
    """An array nested depth levels deep, innermost an array of two u8."""
    body = u32(U8) + u64(2) + b"\1\2"
    for _ in range(depth - 1):
        body = u32(ARR) + u64(1) + body
    return body


case("bad_arr_nesting.gguf", "LIMIT", "key 'n': arrays nested deeper than 4",
     gguf([kv("n", ARR, nested(5))]))
case("bad_align_type.gguf", "FORMAT", "key 'general.alignment': type u64, expected u32",
     gguf([kv("general.alignment", U64, u64(32))]))
case("bad_align_pow2.gguf", "FORMAT", "key 'general.alignment': alignment 48 is not a power of two",
     gguf([kv_u32("general.alignment", 48)]))
case("bad_align_zero.gguf", "FORMAT", "alignment 0 is not a power of two",
     gguf([kv_u32("general.alignment", 0)]))
case("bad_align_huge.gguf", "LIMIT", "alignment 1073741824 exceeds the limit",
     gguf([kv_u32("general.alignment", 1 << 30)]))

# ---- tensor infos -----------------------------------------------------------------
case("bad_tensor_name_len.gguf", "FORMAT", "tensor 0: name length 500 exceeds the",
     header(1, 1) + ARCH + u64(500) + b"w" * 40)
case("bad_tensor_name_limit.gguf", "LIMIT", "tensor 0: name length 5000 exceeds the limit 1024",
     header(1, 1) + ARCH + u64(5000) + b"w" * 40)
case("bad_tensor_name_nul.gguf", "FORMAT", "tensor 0: name contains a NUL byte",
     gguf([ARCH], [tinfo("a\0b", [8], T_F32, 0)], F32x8))
case("bad_dup_tensor.gguf", "FORMAT", "tensor 'w': duplicate tensor name (first at offset 69) (at offset 102)",
     gguf([ARCH], [tinfo("w", [8], T_F32, 0), tinfo("w", [8], T_F32, 32)], F32x8 * 2))
case("bad_n_dims.gguf", "FORMAT", "tensor 'w': n_dims 5 outside 1..4 (at offset 78)",
     gguf([ARCH], [tinfo("w", [1, 1, 1, 1, 8], T_F32, 0)], F32x8))
case("bad_n_dims_zero.gguf", "FORMAT", "tensor 'w': n_dims 0 outside 1..4",
     gguf([ARCH], [tinfo("w", [], T_F32, 0)], F32x8))
case("bad_trunc_dims.gguf", "FORMAT", "tensor 'w': ne[1] truncated",
     header(1, 1) + ARCH + gstr("w") + u32(2) + i64(8) + b"\0\0")
case("bad_neg_dim.gguf", "FORMAT", "tensor 'w': ne[1] is negative (-3) (at offset 90)",
     gguf([ARCH], [tinfo("w", [8, -3], T_F32, 0)], F32x8))
case("bad_nel_overflow.gguf", "FORMAT", "tensor 'w': element count of [4294967296, 4294967296, 1, 1] overflows",
     gguf([ARCH], [tinfo("w", [1 << 32, 1 << 32], T_F32, 0)], F32x8))
case("bad_nel_overflow_zero.gguf", "FORMAT", "tensor 'w': element count of [4294967296, 4294967296, 0, 1] overflows",
     gguf([ARCH], [tinfo("w", [1 << 32, 1 << 32, 0], T_F32, 0)], F32x8))
case("bad_nbytes_overflow.gguf", "FORMAT", "tensor 'w': byte size of 4611686018427387904 F32 elements overflows",
     gguf([ARCH], [tinfo("w", [1 << 62], T_F32, 0)], F32x8))
case("bad_type_range.gguf", "FORMAT", "tensor 'w': type 99 is not a ggml tensor type",
     gguf([ARCH], [tinfo("w", [8], 99, 0)], F32x8))
case("bad_type_retired.gguf", "FORMAT", "tensor 'w': type 4 is not a ggml tensor type",
     gguf([ARCH], [tinfo("w", [8], 4, 0)], F32x8))
case("bad_row_block.gguf", "FORMAT",
     "tensor 'w': row length ne[0] = 33 is not a multiple of Q4_0's block size 32",
     gguf([ARCH], [tinfo("w", [33, 2], T_Q4_0, 0)], b"\0" * 64))
case("bad_trunc_offset.gguf", "FORMAT", "tensor 'w': offset truncated",
     header(1, 1) + ARCH + gstr("w") + u32(1) + i64(8) + u32(T_F32) + b"\0\0\0")
for tname, tnum, blk, size in (("IQ2_XXS", T_IQ2_XXS, 256, 66), ("TQ1_0", T_TQ1_0, 256, 54),
                               ("I8", T_I8, 1, 1), ("MXFP4", T_MXFP4, 32, 17),
                               ("Q8_1", T_Q8_1, 32, 36)):
    case("unsupported_%s.gguf" % tname.lower(), "UNSUPPORTED",
         "tensor 'blk.0.ffn_up.weight': tensor type %s is not supported" % tname,
         gguf([ARCH], [tinfo("blk.0.ffn_up.weight", [blk], tnum, 0)], pad(b"\0" * size)))
case("bad_misaligned.gguf", "FORMAT",
     "tensor 'b': data offset 16 is not a multiple of the alignment 32",
     gguf([ARCH], [tinfo("a", [4], T_F32, 0), tinfo("b", [4], T_F32, 16)], F32x8))
case("bad_misaligned64.gguf", "FORMAT",
     "tensor 'b': data offset 32 is not a multiple of the alignment 64",
     gguf([kv_u32("general.alignment", 64)],
          [tinfo("a", [8], T_F32, 0), tinfo("b", [8], T_F32, 32)], b"\0" * 128, align=64))
case("bad_outside.gguf", "FORMAT", "tensor 'b': data [32, +32) outside the data section (32 bytes",
     gguf([ARCH], [tinfo("a", [8], T_F32, 0), tinfo("b", [8], T_F32, 32)], F32x8))
case("bad_outside_far.gguf", "FORMAT", "tensor 'a': data [1099511627776, +32) outside the data section",
     gguf([ARCH], [tinfo("a", [8], T_F32, 1 << 40)], F32x8))
case("bad_offset_overflow.gguf", "FORMAT", "tensor 'a': data range [18446744073709551584, +64) overflows",
     gguf([ARCH], [tinfo("a", [16], T_F32, (1 << 64) - 32)], F32x8))
case("bad_no_data.gguf", "FORMAT", "tensor 'a': data [0, +32) outside the data section (0 bytes",
     header(1, 0) + tinfo("a", [8], T_F32, 0))
case("bad_overlap.gguf", "FORMAT", "tensor 'b': data [32, 96) overlaps tensor 'a' [0, 64)",
     gguf([ARCH], [tinfo("a", [16], T_F32, 0), tinfo("b", [16], T_F32, 32)], F32x8 * 4))
case("bad_overlap_same.gguf", "FORMAT", "overlaps tensor 'a' [0, 32)",
     gguf([ARCH], [tinfo("a", [8], T_F32, 0), tinfo("b", [8], T_F32, 0)], F32x8))

# ---- strings hearth interprets ------------------------------------------------------
# GGUF strings may hold NUL bytes, so these files parse (OK in gguf_cases.tsv), but a
# string hearth uses as a C string must not have one: read as a C string it would be a
# prefix of itself ("llama\0qwen2" as "llama"). load_cases.tsv says what loading the
# model (or only its tokenizer) must answer.
load_cases = []  # (file, loader, status, expected text)


def load_case(name, loader, status, text, data):
    case(name, "OK", "", data)
    load_cases.append((name, loader, status, text))


def kv_strs(key, items):
    return kv(key, ARR, u32(STR) + u64(len(items)) + b"".join(gstr(x) for x in items))


LLAMA_HP = [kv_u32("llama." + k, v) for k, v in (
    ("context_length", 64), ("embedding_length", 8), ("block_count", 1),
    ("feed_forward_length", 16), ("attention.head_count", 2))] + [
    kv("llama.attention.layer_norm_rms_epsilon", F32, struct.pack("<f", 1e-5))]
TOKS = kv_strs("tokenizer.ggml.tokens", ["a", "b", "ab"]) + kv_strs("tokenizer.ggml.merges", ["a b"])


def nul_msg(key, at, n):
    return "key '%s': string value contains a NUL byte at byte %d of %d" % (key, at, n)


load_case("bad_str_nul_arch.gguf", "model", "FORMAT", nul_msg("general.architecture", 5, 11),
          gguf([kv_str("general.architecture", b"llama\0qwen2")]))
load_case("bad_str_nul_name.gguf", "model", "FORMAT", nul_msg("general.name", 1, 3),
          gguf([ARCH, kv_str("general.name", b"a\0b")]))
load_case("bad_str_nul_template.gguf", "model", "FORMAT", nul_msg("tokenizer.chat_template", 5, 10),
          gguf([ARCH, kv_str("tokenizer.chat_template", b"{{x}}\0evil")]))
load_case("bad_str_type_template.gguf", "model", "FORMAT",
          "key 'tokenizer.chat_template' has type u32, expected str",
          gguf([ARCH, kv_u32("tokenizer.chat_template", 1)]))
load_case("bad_str_nul_rope_scaling.gguf", "model", "FORMAT", nul_msg("llama.rope.scaling.type", 6, 11),
          gguf([ARCH] + LLAMA_HP + [kv_str("llama.rope.scaling.type", b"linear\0yarn")]))
load_case("bad_str_nul_tok_model.gguf", "tokenizer", "FORMAT", nul_msg("tokenizer.ggml.model", 4, 10),
          gguf([kv_str("tokenizer.ggml.model", b"gpt2\0llama"), TOKS], n_kv=3))
load_case("bad_str_nul_tok_pre.gguf", "tokenizer", "FORMAT", nul_msg("tokenizer.ggml.pre", 5, 7),
          gguf([kv_str("tokenizer.ggml.model", "gpt2"), kv_str("tokenizer.ggml.pre", b"qwen2\0x"), TOKS],
               n_kv=4))
# Token texts are kept whole with their length (no C strings), so a NUL in one is
# just a byte: "a\0b" stays distinct from "a" (llama.cpp reads token texts as C
# strings, so there it would become "a" and collide). The tokenizer loads.
def gpt2_byte_tokens():
    # GPT-2's byte alphabet: printable bytes stand for themselves, the rest
    # are shifted to U+0100.. (a gpt2 vocabulary must have the common bytes)
    keep = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    out, n = [], 0
    for b in range(256):
        if b in keep:
            out.append(chr(b).encode())
        else:
            out.append(chr(256 + n).encode())
            n += 1
    return out


load_case("good_tok_nul_piece.gguf", "tokenizer", "OK", "",
          gguf([kv_str("tokenizer.ggml.model", "gpt2"),
                kv_strs("tokenizer.ggml.tokens", gpt2_byte_tokens() + [b"a\0b", b"\0", b"ab"]),
                kv_strs("tokenizer.ggml.merges", ["a b"])]))

# ---- valid but unusual ----------------------------------------------------------------
case("good_v2.gguf", "OK", "",
     gguf([ARCH, kv_u32("llama.embedding_length", 8)], [tinfo("w", [8], T_F32, 0)], F32x8,
          version=2))
case("good_nested.gguf", "OK", "", gguf([ARCH, kv("n", ARR, nested(4))]))
case("good_vocab_no_padding.gguf", "OK", "",
     header(0, 2) + ARCH + kv("tokenizer.ggml.tokens", ARR, u32(STR) + u64(2) + gstr("a") + gstr("b")))
case("good_any_order.gguf", "OK", "",  # tensors stored out of order, with gaps, and empty ones
     gguf([ARCH], [tinfo("b", [8], T_F32, 64), tinfo("a", [8], T_F32, 0),
                   tinfo("e", [0, 3], T_F32, 32), tinfo("z", [32, 0], T_Q8_0, 0)], F32x8 * 3))
case("good_odd_names.gguf", "OK", "",  # names with control and non-UTF-8 bytes
     gguf([kv_u32(b"k\xff\x1b[31m", 1), kv_str("s", b"\xfe\x1b[2J")],
          [tinfo(b"t\x1b]0;x\x07", [8], T_F32, 0)], F32x8))
case("good_align1.gguf", "OK", "",
     gguf([kv_u32("general.alignment", 1)], [tinfo("a", [3], T_F16, 0), tinfo("b", [1], T_F32, 6)],
          b"\1" * 10, align=1))


def main():
    lines = ["# file\tstatus\texpected error text (generated by make_bad_gguf.py)"]
    for name, status, text, data in cases:
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
        assert "\t" not in text and "\n" not in text
        lines.append("%s\t%s\t%s" % (name, status, text))
    with open(os.path.join(HERE, "gguf_cases.tsv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    lines = ["# file\tloader (model: hearth_model_open, tokenizer: hearth_tokenizer_load)\t"
             "status\texpected error text (generated by make_bad_gguf.py)"]
    for name, loader, status, text in load_cases:
        assert "\t" not in text and "\n" not in text
        lines.append("%s\t%s\t%s\t%s" % (name, loader, status, text))
    with open(os.path.join(HERE, "load_cases.tsv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %d files to %s" % (len(cases), HERE))


if __name__ == "__main__":
    main()
