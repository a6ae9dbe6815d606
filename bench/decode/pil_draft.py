#!/usr/bin/python3
"""The PIL peer of `embedsearch embed` with the built-in model, for CPU time
per image: open, draft(), convert("RGB") and resize to the model's input,
which is what builtin-v3 declares (squash to SIZE x SIZE, bicubic,
reducing_gap 3, the draft keeping 4 times SIZE).

    /usr/bin/python3 bench/decode/pil_draft.py 64 FILE...

With no FILE it only starts: run it so to measure the start-up alone.
"""
import sys

from PIL import Image


def main():
    size = int(sys.argv[1])
    for path in sys.argv[2:]:
        with Image.open(path) as im:
            im.draft("RGB", (4 * size, 4 * size))
            im.convert("RGB").resize((size, size), Image.BICUBIC, reducing_gap=3.0)


if __name__ == "__main__":
    main()
