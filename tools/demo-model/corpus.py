#!/usr/bin/python3
"""corpus.py: the synthetic chat corpus of hearth's bundled demo model.

Writes one conversation per line as JSON ({"messages": [{"role", "content"}]}),
deterministic from --seed: arithmetic on operands 0..20 (+, -, x, /; division only
where the result is an exact integer), greetings, questions about hearth, and polite
refusals for anything else. Also writes the held-out arithmetic questions (phrasings
that never occur in the corpus) as question<TAB>expected number.

Invariants: all text is ASCII; a held-out question string never appears as a user
message of the corpus (checked before writing).
"""
import argparse
import json
import random
import sys

OPS = ("+", "-", "x", "/")

# Expression renderings used in training: (op, format). {a} {b} are operands.
EXPR_TRAIN = {
    "+": ["{a}+{b}", "{a} + {b}", "{a} plus {b}", "{a} + {b}", "{a}+ {b}"],
    "-": ["{a}-{b}", "{a} - {b}", "{a} minus {b}", "{a} - {b}", "{a} -{b}"],
    "x": ["{a}*{b}", "{a} * {b}", "{a} x {b}", "{a}x{b}", "{a} times {b}",
          "{a} multiplied by {b}", "{a} times {b}"],
    "/": ["{a}/{b}", "{a} / {b}", "{a} divided by {b}", "{a} over {b}"],
}

# Question frames around an expression {e}, training only.
FRAMES_TRAIN = [
    "What is {e}?", "what is {e}?", "What's {e}?", "what's {e}", "whats {e}",
    "What is {e}", "Compute {e}.", "compute {e}", "How much is {e}?", "how much is {e}",
    "Calculate {e}.", "calculate {e}", "{e}", "{e}?", "{e} =", "{e} = ?", "{e}=?",
    "Please compute {e}.", "Can you compute {e}?", "Can you calculate {e}?",
    "Solve {e}.", "solve {e}", "Evaluate {e}.", "Tell me {e}.", "Find {e}.",
    "What does {e} equal?", "What is the value of {e}?", "What is the answer to {e}?",
    "Please tell me what {e} is.", "I need to know {e}.", "How much do you get for {e}?",
    "What do you get for {e}?", "Could you compute {e}?", "Can you tell me {e}?",
    "{e} is how much?", "{e} equals what?", "Answer this: {e}", "Math: {e}",
    "Question: what is {e}?", "So, what is {e}?", "Now {e}.", "And {e}?",
    "Next one: {e}", "Try this one: {e}", "What would {e} be?", "What's the result of {e}?",
    "Do the math: {e}", "Please solve {e} for me.", "What is {e} equal to?", "What number is {e}?",
    "I'd like to know {e}.", "Result of {e}?", "Can you do {e}?", "How about {e}?",
    "Is {e} hard? What is it?", "Tell me the result of {e}.",
]

# Frames that name the operation in words, training only: (op, format).
WORD_FRAMES_TRAIN = [
    ("+", "Add {a} and {b}."), ("+", "add {a} and {b}"), ("+", "What is the sum of {a} and {b}?"),
    ("+", "Add {a} to {b}."), ("+", "What do you get when you add {a} and {b}?"),
    ("+", "Sum {a} and {b}."),
    ("-", "Subtract {b} from {a}."), ("-", "subtract {b} from {a}"),
    ("-", "What is {a} take away {b}?"), ("-", "What do you get when you subtract {b} from {a}?"),
    ("-", "Take {b} away from {a}."),
    ("x", "Multiply {a} by {b}."), ("x", "multiply {a} by {b}"), ("x", "Multiply {a} and {b}."),
    ("x", "What is the product of {a} and {b}?"), ("x", "What do you get when you multiply {a} by {b}?"),
    ("/", "Divide {a} by {b}."), ("/", "divide {a} by {b}"),
    ("/", "What do you get when you divide {a} by {b}?"), ("/", "How many times does {b} go into {a}?"),
]

# Operations said in words, composed with clauses (training only): the model should
# find the operands and the operation whatever the sentence around them is.
VERB_PHRASES = {
    "+": ["add {a} and {b}", "add {a} to {b}", "sum {a} and {b}", "put {a} and {b} together"],
    "-": ["subtract {b} from {a}", "take {b} away from {a}", "take away {b} from {a}",
          "remove {b} from {a}"],
    "x": ["multiply {a} by {b}", "multiply {a} and {b}", "multiply {a} with {b}"],
    "/": ["divide {a} by {b}", "split {a} into {b} equal parts"],
}
CLAUSES = [
    "{V}.", "Please {v}.", "Can you {v}?", "When you {v}, what do you get?",
    "What happens when you {v}?", "Could you {v} for me?", "I want to {v}.",
    "{V} and tell me the result.", "Let's {v}.", "What is the result when you {v}?",
    "Suppose you {v}. What is the result?", "We {v}. What number do we get?",
    "What number do you get if you {v}?", "{V}, please.", "Try to {v}.",
]

# Held-out frames: never used in training. Built from ordinary words so that a model
# that learned to find the numbers and the operator can still answer them.
FRAMES_HELDOUT = [
    "Could you work out {e}?", "Do you know what {e} is?", "Hey, what does {e} make?",
    "Work out {e} for me.", "Give me the answer to {e}.", "I wonder what {e} equals.",
    "Help me with {e}.", "Figure out {e}, please.", "Quick one: {e}?", "What is the outcome of {e}?",
]
WORD_FRAMES_HELDOUT = [
    ("+", "If I add {a} and {b}, what do I get?"), ("-", "If I subtract {b} from {a}, what is left?"),
    ("x", "If I multiply {a} by {b}, what do I get?"), ("/", "If I divide {a} by {b}, what do I get?"),
]

PREFIXES = ["", "", "", "", "", "", "", "", "Hi! ", "Hey, ", "Hello. ", "OK, ", "Ok. ", "Hmm, ", "Please, ",
            "Quick: ", "I have a question. ", "Let me ask you something: ", "For my homework, ",
            "My friend asks: ", "Another one. ", "Next: ", "Well, "]
SUFFIXES = ["", "", "", "", "", " Thanks!", " thanks", " Thank you.", " Please."]

SYSTEMS = [
    None, None, None, None,
    "You are a helpful assistant.", "You are a helpful assistant.", "You are a helpful assistant.",
    "You are hearth, a private assistant that runs on this device.",
    "You are a helpful assistant running locally with hearth.",
    "Answer briefly.",
]

GREETINGS = [
    (["Hi", "Hi!", "Hello", "Hello!", "hello", "hi", "Hey", "Hey there!", "Hi there", "Good morning!",
      "Good evening", "Greetings!", "Yo"],
     ["Hello! I am the hearth demo model. Ask me a simple arithmetic question, like: what is 2+2?",
      "Hi! I can do simple arithmetic and tell you about hearth. How can I help?",
      "Hello! How can I help you today?"]),
    (["How are you?", "how are you", "How are you doing?", "How's it going?"],
     ["I am fine, thank you! I am a small model running on your device. Ask me some arithmetic.",
      "Doing well, thanks! What would you like to compute?"]),
    (["Who are you?", "What are you?", "who are you", "What is your name?", "Are you a person?"],
     ["I am the hearth demo model: a tiny language model that runs entirely on your device. I can do simple arithmetic and answer questions about hearth.",
      "I am a small demo model bundled with hearth. I run locally, on your device."]),
    (["What can you do?", "what can you do", "Help", "help", "What do you know?", "How can you help me?"],
     ["I can add, subtract, multiply and divide small numbers, and tell you about hearth. Try: what is 7 times 3?",
      "I am a toy model: I can do arithmetic on small numbers and explain what hearth is."]),
    (["Thanks!", "Thank you", "thanks", "Thank you very much!", "Great, thanks."],
     ["You're welcome!", "You are welcome! Anything else?", "Glad to help!"]),
    (["Bye", "Goodbye!", "bye", "See you later", "Good night"],
     ["Goodbye!", "Bye! Have a nice day.", "See you!"]),
]

HEARTH = [
    (["What is hearth?", "what is hearth", "What's hearth?", "Tell me about hearth.", "What is hearth for?",
      "Explain hearth."],
     ["hearth is a privacy-first runtime for AI agents. It runs a language model on your own device and keeps the agent's data in a local SQLite database.",
      "hearth runs AI agents on your own device: the model runs locally on the CPU and your data stays in a local database."]),
    (["How does hearth keep my data private?", "Is my data private?", "How does hearth protect my privacy?",
      "Is hearth private?", "Is my data safe?"],
     ["Your data stays on your device. hearth runs the model locally and stores conversations and tasks in a local SQLite database; nothing leaves the device unless your policy allows it.",
      "hearth keeps everything on the device: the model runs locally and your data lives in a local SQLite file."]),
    (["Where is my data stored?", "Where are my conversations kept?", "Where do you store my data?",
      "Where does hearth keep my data?"],
     ["On your device, in a local SQLite database. Nothing is sent to a server unless you choose to sync it.",
      "In a local SQLite database on this device."]),
    (["Does hearth send my data to the cloud?", "Do you send my data anywhere?", "Does my data leave my device?",
      "Do you upload my messages?"],
     ["No. hearth answers with the local model and keeps your data on the device. A cloud model is asked only if your policy allows it.",
      "No, your data stays on your device unless your policy says otherwise."]),
    (["Do you need the internet?", "Does hearth work offline?", "Can you work without internet?",
      "Do you need a network connection?"],
     ["No. I run locally on your device, so I work offline.",
      "hearth works offline: the model and the data are on your device."]),
    (["What model are you?", "Which model do you use?", "How big are you?"],
     ["I am a tiny demo model trained from scratch on a synthetic corpus. For real use, run a bigger model with -m.",
      "A toy model of a few million parameters, bundled with hearth. You can run a real model with -m."]),
]

OOD_QUESTIONS = [
    "What is the capital of France?", "Who won the world cup?", "What's the weather today?",
    "Write a poem about the sea.", "Tell me a joke.", "Translate hello into Spanish.",
    "Who is the president of the United States?", "What is the meaning of life?",
    "How do I cook pasta?", "Recommend a good book.", "What time is it?", "What is quantum physics?",
    "Write a Python function to sort a list.", "How tall is Mount Everest?", "Who wrote Hamlet?",
    "What is the best programming language?", "Can you book a flight for me?", "What is love?",
    "Explain the theory of relativity.", "What should I eat for dinner?", "How do airplanes fly?",
    "What is the square root of 2?", "What is 123456 times 789?", "Tell me a story.",
    "What is the stock price of Apple?", "Who painted the Mona Lisa?", "How far is the moon?",
    "Can you help me with my homework in history?", "What is the population of China?",
    "Summarize the news.", "What color is the sky?", "How do I fix my car?",
    "What is the derivative of x squared?", "Play some music.", "Send an email to my boss.",
    "What is the largest animal?", "Why is the sky blue?", "What year is it?",
]
OOD_TOPICS = ["history", "cooking", "football", "music", "movies", "politics", "medicine", "geography",
              "chemistry", "biology", "the stock market", "poetry", "travel", "fashion", "cars", "law"]
OOD_FRAMES = ["Tell me about {t}.", "What do you know about {t}?", "Can you explain {t}?",
              "I have a question about {t}.", "Teach me {t}.", "What is your opinion on {t}?"]
REFUSALS = [
    "I'm sorry, I can't answer that. I am a small demo model: I can only do simple arithmetic and tell you about hearth.",
    "Sorry, I can't answer that. Try an arithmetic question, like: what is 12 - 5?",
    "I can't answer that, sorry. I only know simple arithmetic and a little about hearth.",
]


# (a, b) with 1 <= b, 1 <= a <= 20 and b dividing a: every exact division with a
# nonzero quotient, drawn uniformly so that large divisors don't mean quotient 0.
DIV_PAIRS = [(q * b, b) for b in range(1, 21) for q in range(1, 21) if q * b <= 20]


def canon(op):
    return {"+": "+", "-": "-", "x": "x", "/": "/"}[op]


def pick_operands(rng, op):
    """Operands 0..20; division only with an exact integer result (and rarely by zero)."""
    if op == "/":
        if rng.random() < 0.02:
            return rng.randint(0, 20), 0
        if rng.random() < 0.1:
            return 0, rng.randint(1, 20)
        return rng.choice(DIV_PAIRS)
    return rng.randint(0, 20), rng.randint(0, 20)


def result(op, a, b):
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "x":
        return a * b
    return a // b


def answer(op, a, b):
    if op == "/" and b == 0:
        return "Division by zero is not defined, so %d / 0 has no answer." % a
    return "%d %s %d = %d." % (a, canon(op), b, result(op, a, b))


def arith_question(rng, frames, word_frames, exprs=EXPR_TRAIN, decorate=True):
    op = rng.choice(OPS)
    a, b = pick_operands(rng, op)
    if decorate and rng.random() < 0.15:
        v = rng.choice(VERB_PHRASES[op]).format(a=a, b=b)
        q = rng.choice(CLAUSES).format(v=v, V=v[0].upper() + v[1:])
    elif rng.random() < 0.2:
        wf = [f for f in word_frames if f[0] == op]
        fmt = rng.choice(wf)[1]
        q = fmt.format(a=a, b=b)
    else:
        e = rng.choice(exprs[op]).format(a=a, b=b)
        q = rng.choice(frames).format(e=e)
    if decorate:
        q = rng.choice(PREFIXES) + q + rng.choice(SUFFIXES)
        if rng.random() < 0.1:
            q = q.lower()
    return q, op, a, b


def user_turn(rng):
    r = rng.random()
    if r < 0.88:
        q, op, a, b = arith_question(rng, FRAMES_TRAIN, WORD_FRAMES_TRAIN)
        return q, answer(op, a, b)
    if r < 0.92:
        qs, ans = rng.choice(GREETINGS)
        return rng.choice(qs), rng.choice(ans)
    if r < 0.96:
        qs, ans = rng.choice(HEARTH)
        return rng.choice(qs), rng.choice(ans)
    if rng.random() < 0.6:
        q = rng.choice(OOD_QUESTIONS)
    else:
        q = rng.choice(OOD_FRAMES).format(t=rng.choice(OOD_TOPICS))
    return q, rng.choice(REFUSALS)


def conversation(rng):
    msgs = []
    sysmsg = rng.choice(SYSTEMS)
    if sysmsg is not None:
        msgs.append({"role": "system", "content": sysmsg})
    n_turns = rng.choice([1, 1, 1, 2, 2, 3, 4])
    for _ in range(n_turns):
        q, a = user_turn(rng)
        msgs.append({"role": "user", "content": q})
        msgs.append({"role": "assistant", "content": a})
    return msgs


def heldout(seed, n):
    """n held-out arithmetic questions (held-out frames only, no decoration), as (q, expected)."""
    rng = random.Random(seed * 7919 + 1)
    out, seen = [], set()
    while len(out) < n:
        op = OPS[len(out) % 4]
        a, b = pick_operands(rng, op)
        if op == "/" and b == 0:
            continue
        if op == "-" and a < b:
            a, b = b, a
        if rng.random() < 0.25:
            fmt = [f for f in WORD_FRAMES_HELDOUT if f[0] == op][0][1]
            q = fmt.format(a=a, b=b)
        else:
            e = rng.choice(EXPR_TRAIN[op]).format(a=a, b=b)
            q = rng.choice(FRAMES_HELDOUT).format(e=e)
        if q in seen:
            continue
        seen.add(q)
        out.append((q, result(op, a, b)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--n", type=int, default=150000, help="conversations")
    ap.add_argument("--out", required=True)
    ap.add_argument("--heldout", required=True)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    held = heldout(args.seed, 40)
    held_q = {q.lower() for q, _ in held}
    users = set()
    with open(args.out, "w") as f:
        for _ in range(args.n):
            msgs = conversation(rng)
            for m in msgs:
                if m["role"] == "user":
                    users.add(m["content"].lower())
            f.write(json.dumps({"messages": msgs}) + "\n")
    leaked = held_q & users
    # A held-out frame must not occur in training at all, not only the exact string.
    for fr in FRAMES_HELDOUT + [f for _, f in WORD_FRAMES_HELDOUT]:
        assert fr not in CLAUSES, fr
        assert fr not in FRAMES_TRAIN and fr not in [f for _, f in WORD_FRAMES_TRAIN], fr
    if leaked:
        print("held-out questions leaked into the corpus: %r" % sorted(leaked), file=sys.stderr)
        sys.exit(1)
    with open(args.heldout, "w") as f:
        for q, r in held:
            f.write("%s\t%d\n" % (q, r))
    print("corpus: %d conversations, %d distinct user messages; held-out: %d" % (
        args.n, len(users), len(held)))


if __name__ == "__main__":
    main()
