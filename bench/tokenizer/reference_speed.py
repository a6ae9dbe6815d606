#!/usr/bin/python3
"""Tokens/s of OpenAI's reference tokenizer on the captions BenchmarkTokens
(infer/tokenizer) uses, for a same-machine ratio against the Go port:

    /usr/bin/python3 bench/tokenizer/reference_speed.py
    go test -run XXX -bench Tokens ./infer/tokenizer/

Needs python3-regex. The reference keeps a word cache, like the Go port.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "infer", "tokenizer", "crosscheck"))
sys.argv = [sys.argv[0]]  # reference.py reads argv only when run as a script

import importlib.util  # noqa: E402

spec = importlib.util.spec_from_file_location("reference", os.path.join(HERE, "..", "..", "infer", "tokenizer", "crosscheck", "reference.py"))
src = open(spec.origin).read().split("\nt = T(sys.argv[1])")[0]
ns = {}
exec(compile(src, spec.origin, "exec"), ns)
tok = ns["T"](os.path.join(HERE, "..", "..", "infer", "tokenizer", "clip", "bpe_simple_vocab_16e6.txt.gz"))

words = ("a photo of the dog cat beach sunset mountain river 4k hdr close-up aerial portrait vintage "
         "drawing child's o'clock café naïve 東京タワー").split()
texts = []
for i in range(256):
    texts.append(" ".join(words[(i * 7 + j * 13) % len(words)] for j in range(12)) + " ")
total = sum(len(tok.encode(t)) for t in texts)  # warms the word cache
rounds, start = 0, time.perf_counter()
while time.perf_counter() - start < 3:
    for t in texts:
        ids = tok.encode(t)
        ids = [49406] + ids[:75] + [49407]
        ids += [0] * (77 - len(ids))
    rounds += 1
elapsed = time.perf_counter() - start
print(f"reference (Python)  {total * rounds / elapsed:12.0f} tokens/s")
