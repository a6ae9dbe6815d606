#!/usr/bin/python3
"""Write cases.jsonl for the tokenizer cross-check: every Unicode scalar value
in a context that exercises casing, final sigma, contractions and the split
classes, plus 100,000 random strings mixing HTML references, special tokens
and tricky characters (fixed seed).

    cases.py OUT.jsonl
"""
import sys
import json, random
random.seed(1)
out = open(sys.argv[1], 'w')
for c in range(0x110000):
    if 0xD800 <= c <= 0xDFFF: continue
    ch = chr(c)
    out.write(json.dumps("A" + ch + "Σ" + ch + "'S " + ch) + '\n')
ents = ['&amp;', '&amp', '&ampx;', '&lt', '&notin;', '&notit;', '&#128;', '&#x9f;', '&#0;', '&#13;', '&#xfffe;', '&#1114112;', '&ccedil', '&Ccedil;', '&#', '&;', '& ', '&&amp;amp;', '&amp;lt;', '<|endoftext|>', '<|STARTOFTEXT|>', "'ſ", 'İ', 'ΣΑΣ', 'ϹΣ', '\x1c', '\x85', '\u2028', '\u00a0', ' \t\n', "'LL", "'re", '1234', '٣٤', 'ǅ', 'ﬁ', 'Ω']
pool = ents + [chr(random.randrange(0x20, 0x3000)) for _ in range(300)] + list("abc xyz 09.,!?'")
for _ in range(100000):
    out.write(json.dumps(''.join(random.choice(pool) for _ in range(random.randrange(1, 12)))) + '\n')
