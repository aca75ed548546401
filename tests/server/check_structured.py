"""check_structured.py MODE FILE [SCHEMA]: checks one answer of a real
`hearth serve` (test_structured.sh). Modes:
  chat-schema     FILE is a chat.completion; its content must validate (SCHEMA file)
  stream-schema   FILE is an SSE stream; the joined deltas must validate
  chat-logprobs   chat.completion with logprobs: OpenAI's shape, bytes join to the content
  stream-logprobs SSE chat stream with logprobs: per-chunk shape, bytes join to the text
  cmpl-logprobs   text_completion with logprobs: tokens/token_logprobs/top_logprobs/text_offset
  error400 FIELD  FILE is an OpenAI error body whose message names FIELD
Exit 1 with a message on failure, 77 without python3-jsonschema."""
import json
import sys

mode, path = sys.argv[1], sys.argv[2]
raw = open(path, encoding="utf-8").read()


def fail(msg):
    print("FAIL %s: %s\n%s" % (mode, msg, raw[:2000]), file=sys.stderr)
    sys.exit(1)


def sse(text):
    out = []
    for line in text.splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            out.append(json.loads(line[6:]))
    if "data: [DONE]" not in text:
        fail("no [DONE]")
    return out


def validate(text, schema_path):
    try:
        import jsonschema
    except ImportError:
        sys.exit(77)
    schema = json.load(open(schema_path))
    try:
        value = json.loads(text)
    except ValueError as e:
        fail("content is not JSON (%s): %r" % (e, text))
    try:
        jsonschema.validators.validator_for(schema)(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(value)
    except jsonschema.ValidationError as e:
        fail("content does not validate: %s: %r" % (e.message, text))


def check_entry(e, n_top):
    if not isinstance(e.get("token"), str) or not isinstance(e.get("bytes"), list):
        fail("entry shape %r" % e)
    if not isinstance(e.get("logprob"), (int, float)) or e["logprob"] > 1e-6:
        fail("logprob %r" % e.get("logprob"))
    tops = e.get("top_logprobs")
    if not isinstance(tops, list) or len(tops) != n_top:
        fail("top_logprobs has %r entries, want %d" % (None if tops is None else len(tops), n_top))
    lps = [t["logprob"] for t in tops]
    if lps != sorted(lps, reverse=True):
        fail("top_logprobs not best first: %r" % lps)
    for t in tops:
        if set(t) != {"token", "logprob", "bytes"}:
            fail("top entry keys %r" % sorted(t))
    if n_top and e["logprob"] > tops[0]["logprob"] + 1e-4:
        fail("sampled token above the best alternative")


if mode == "chat-schema":
    validate(json.loads(raw)["choices"][0]["message"]["content"], sys.argv[3])
elif mode == "stream-schema":
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in sse(raw) if c["choices"])
    validate(text, sys.argv[3])
elif mode == "chat-logprobs":
    o = json.loads(raw)
    ch = o["choices"][0]
    lp = ch.get("logprobs")
    if not isinstance(lp, dict) or "content" not in lp or lp.get("refusal", 0) is not None:
        fail("logprobs shape")
    for e in lp["content"]:
        check_entry(e, int(sys.argv[3]))
    got = bytes(b for e in lp["content"] for b in e["bytes"])
    # invalid UTF-8 of a random model shows as U+FFFD in the text, as
    # Python's "replace" decoding does it (one per maximal invalid subpart)
    if got.decode("utf-8", "replace") != ch["message"]["content"]:
        fail("token bytes %r do not join to the content" % got)
    n = o["usage"]["completion_tokens"]
    if not (n - 1 <= len(lp["content"]) <= n):
        fail("%d entries for %d completion tokens" % (len(lp["content"]), n))
elif mode == "stream-logprobs":
    text, got = "", b""
    for c in sse(raw):
        if not c["choices"]:
            continue
        ch = c["choices"][0]
        text += ch["delta"].get("content", "")
        if "logprobs" not in ch:
            fail("chunk without a logprobs key")
        if ch["logprobs"] is None:
            continue
        for e in ch["logprobs"]["content"]:
            check_entry(e, int(sys.argv[3]))
            got += bytes(e["bytes"])
    if got.decode("utf-8", "replace") != text or not text:
        fail("streamed token bytes %r do not join to the text %r" % (got, text))
elif mode == "cmpl-logprobs":
    o = json.loads(raw)
    ch = o["choices"][0]
    lp = ch["logprobs"]
    k = int(sys.argv[3])
    n = len(lp["tokens"])
    if not n or any(len(lp[f]) != n for f in ("token_logprobs", "top_logprobs", "text_offset")):
        fail("array lengths")
    if lp["text_offset"] != sorted(lp["text_offset"]) or lp["text_offset"][0] != 0:
        fail("text_offset %r" % lp["text_offset"])
    if any(not isinstance(t, dict) or len(t) > k or len(t) < 1 for t in lp["top_logprobs"]):
        fail("top_logprobs entries")
    if any(x > 1e-6 for x in lp["token_logprobs"]):
        fail("a positive log-probability")
elif mode == "error400":
    e = json.loads(raw).get("error", {})
    if sys.argv[3] not in e.get("message", "") or e.get("type") != "invalid_request_error":
        fail("error does not name %s" % sys.argv[3])
else:
    fail("unknown mode")
