#!/usr/bin/python3
"""Makes the held-out calibration sets for dedup's presets.

    /usr/bin/python3 bench/dedup/calibset.py [--data DIR] [--out DIR] [--seed N]

Presets are chosen on images the benchmarks do not contain: the 1,000
training photos the built-in model never trained on (train-photos, held out
by models/train/train.py's split: seed 1, 1,000 photos), plus copies made
here from them, plus photos of the same classes as crowding distractors
(photos of the same kind of object, as in a real library; these were
trained on, as the benchmark's distractors were).

Two sets, split by class so that neither sees the other's photos:
  OUT/calib-A  chooses the presets (bench/dedup/calibrate.py --choose)
  OUT/calib-B  checks them (the presets must hold there: purity, recall)
Each is laid out like caltech101-neardup: dups/gNNNN/<kind>.<ext> (an
original and its copies), distractors/, groups.tsv (original first) and
kinds.tsv (path, kind, class: exact for re-encodes, resizes and metadata
edits; near for crops, borders, overlays, colour and geometry changes).
Every third original also has a recoloured version among the distractors
(distractors/recolour-gNNNN.jpg: one object-sized region in another
colour, half of them lighter or darker too): a local change, which dedup
must not group with the original.

Photos are 64x64; like train.py's threshold set they are upscaled 3x
(bicubic) to about a photo's size, then saved as JPEG at a random quality
(70-95). Each original gets 3 to 15 copies of kinds drawn at random (groups
of 4 to 16, so that no one group size sets the neighbourhoods), made from
the upscaled original with PIL and saved at a random quality (75-95) unless
the kind says otherwise. Deterministic for a seed. Needs python3-pil and python3-numpy.
"""
import argparse
import io
import os
import random
import shutil

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

FONTS = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
         "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"]
SCALE = 3
ORIGINALS_PER_CLASS = 2
DISTRACTORS_PER_CLASS = 80  # trained-on photos of the class (all of them), crowding it
MIN_COPIES, MAX_COPIES = 3, 15  # copies per original, a random subset of the kinds
# Duplicates train-photos already holds (its MANIFEST.md): a group of their
# own where both are distractors of a set.
KNOWN_DUPLICATES = [("n07747607_20", "n07753592_63")]


def font(rng, px):
    files = [f for f in FONTS if os.path.exists(f)]
    return ImageFont.truetype(rng.choice(files), px) if files else ImageFont.load_default()


def jpeg_bytes(im, q):
    b = io.BytesIO()
    im.save(b, "JPEG", quality=q)
    return b.getvalue()


def rand_colour(rng):
    r = rng.random()
    if r < 0.35:
        return (0, 0, 0)
    if r < 0.6:
        return (255, 255, 255)
    return tuple(rng.randrange(256) for _ in range(3))


def sepia(im):
    g = np.asarray(ImageOps.grayscale(im), dtype=np.float32)
    rgb = np.stack([g * 1.07 + 20, g * 0.95 + 8, g * 0.75], axis=2)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def copies(src, rng):
    """Every copy kind: name -> (class, image, format, save options)."""
    w, h = src.size
    q = lambda: {"quality": rng.randint(75, 95)}
    out = {}
    # exact: re-encodes, resizes, metadata edits
    out["reenc"] = ("exact", src, "JPEG", {"quality": rng.randint(55, 95)})
    out["png"] = ("exact", src, "PNG", {})
    out["webp"] = ("exact", src, "WEBP", {"quality": rng.randint(70, 90)})
    s = rng.uniform(0.4, 0.7)
    out["half"] = ("exact", src.resize((round(w * s), round(h * s)), Image.LANCZOS), "JPEG", q())
    s = rng.uniform(0.2, 0.33)
    out["thumb"] = ("exact", src.resize((max(8, round(w * s)), max(8, round(h * s))), Image.BICUBIC), "JPEG", q())
    ex = Image.Exif()
    ex[274] = 8  # shown rotated 90 degrees clockwise: the pixels are the original turned the other way
    out["exif8"] = ("exact", src.transpose(Image.ROTATE_270), "JPEG", dict(q(), exif=ex.tobytes()))
    # near: compression, crops, borders, overlays, colour, geometry
    out["jpeg20"] = ("near", src, "JPEG", {"quality": rng.randint(12, 25)})
    f = rng.uniform(0.75, 0.9)
    cw, ch = round(w * f), round(h * f)
    x, y = rng.choice([(0, 0), (w - cw, 0), (0, h - ch), (w - cw, h - ch)])
    out["crop80"] = ("near", src.crop((x, y, x + cw, y + ch)), "JPEG", q())
    f = rng.uniform(0.55, 0.7)
    cw, ch = round(w * f), round(h * f)
    x, y = (w - cw) // 2 + rng.randint(-3, 3), (h - ch) // 2 + rng.randint(-3, 3)
    out["crop60"] = ("near", src.crop((x, y, x + cw, y + ch)), "JPEG", q())
    a = rng.uniform(0.6, 0.8)
    out["squash"] = ("near", src.resize((w, round(h * a))) if rng.random() < 0.5 else src.resize((round(w * a), h)), "JPEG", q())
    out["blur"] = ("near", src.filter(ImageFilter.GaussianBlur(w * rng.uniform(0.008, 0.02))), "JPEG", q())
    t = src.copy()
    d = ImageDraw.Draw(t)
    px = max(8, round(h * rng.uniform(0.06, 0.1)))
    d.text((rng.randint(0, w // 4), rng.randint(0, h - px - 2)), rng.choice(["(c) 2024 photo", "holiday", "IMG 2031", "sample text"]),
           fill=rand_colour(rng), font=font(rng, px))
    out["text"] = ("near", t, "JPEG", q())
    t = src.copy().convert("RGBA")
    lw, lh = round(w * rng.uniform(0.15, 0.3)), round(h * rng.uniform(0.1, 0.2))
    lx, ly = rng.randint(0, w - lw), rng.randint(0, h - lh)
    over = Image.new("RGBA", t.size, (0, 0, 0, 0))
    ImageDraw.Draw(over).rectangle((lx, ly, lx + lw, ly + lh), fill=rand_colour(rng) + (rng.randint(120, 220),))
    out["logo"] = ("near", Image.alpha_composite(t, over).convert("RGB"), "JPEG", q())
    b = [round(max(w, h) * rng.uniform(0.04, 0.15)) for _ in range(4)] if rng.random() < 0.3 else [round(max(w, h) * rng.uniform(0.05, 0.12))] * 4
    out["border"] = ("near", ImageOps.expand(src, border=tuple(b), fill=rand_colour(rng)), "JPEG", q())
    out["bright"] = ("near", ImageEnhance.Contrast(ImageEnhance.Brightness(src).enhance(rng.uniform(1.15, 1.4))).enhance(rng.uniform(1.0, 1.3)), "JPEG", q())
    out["dark"] = ("near", ImageEnhance.Brightness(src).enhance(rng.uniform(0.6, 0.8)), "JPEG", q())
    hh, ss, vv = src.convert("HSV").split()
    shift = rng.randint(20, 60) * rng.choice([-1, 1])
    out["hue"] = ("near", Image.merge("HSV", (hh.point(lambda x: (x + shift) % 256), ss, vv)).convert("RGB"), "JPEG", q())
    out["saturate"] = ("near", ImageEnhance.Color(src).enhance(rng.uniform(1.4, 1.8)), "JPEG", q())
    out["gray"] = ("near", ImageOps.grayscale(src), "JPEG", q())
    out["sepia"] = ("near", sepia(src), "JPEG", q())
    out["flip"] = ("near", src.transpose(Image.FLIP_LEFT_RIGHT), "JPEG", q())
    out["rot"] = ("near", src.transpose(rng.choice([Image.ROTATE_90, Image.ROTATE_180, Image.ROTATE_270])), "JPEG", q())
    return out


def recolour(src, rng, tone):
    """The same picture with one object-sized region in another colour
    (its hue turned, the rest untouched): a local change, so a different
    photo for dedup, the hard negative of product shots. Every other one
    (drawn from tone, a generator of its own, so that the copies drawn from
    rng stay what they were) is painted lighter or darker too, as a black
    product made in red is: a change a greyscale copy of it shows."""
    w, h = src.size
    a = np.asarray(src.convert("HSV")).copy()
    mask = Image.new("L", (w, h), 0)
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
    rx, ry = rng.uniform(0.2, 0.35) * w, rng.uniform(0.2, 0.35) * h
    ImageDraw.Draw(mask).ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=255)
    m = np.asarray(mask) > 0
    a[..., 0][m] = (a[..., 0][m].astype(int) + rng.randint(60, 190)) % 256
    a[..., 1][m] = np.maximum(a[..., 1][m], 90)  # grey parts take colour too
    if tone.random() < 0.5:
        v = a[..., 2][m].astype(np.float32)
        f = tone.uniform(0.35, 0.6)
        v = v * f if v.mean() > 128 else 255 - (255 - v) * f
        a[..., 2][m] = np.clip(v, 0, 255).astype(np.uint8)
    return Image.fromarray(a, "HSV").convert("RGB")


def ext(fmt):
    return {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}[fmt]


def upscale(path):
    with Image.open(path) as im:
        im = im.convert("RGB")
        return im.resize((im.width * SCALE, im.height * SCALE), Image.BICUBIC)


def heldout(files, seed=1, n=1000):
    """models/train/train.py's split: the photos it never trained on."""
    idx = list(range(len(files)))
    np.random.RandomState(seed).shuffle(idx)
    return set(files[i] for i in idx[:n])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    ap.add_argument("--data", default=os.path.join(os.path.dirname(repo), "shared", "data"))
    ap.add_argument("--out", default=os.path.join(repo, "bench", "out"))
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    root = os.path.join(args.data, "train-photos", "train")
    files = []
    for d, _, fs in os.walk(root):
        files += [os.path.join(d, f) for f in fs if f.lower().endswith((".jpg", ".jpeg", ".png"))]
    files.sort()
    held = heldout(files)
    classes = sorted(os.listdir(root))
    for si, split in enumerate(["calib-A", "calib-B"]):
        rng = random.Random(args.seed * 10 + si)
        out = os.path.join(args.out, split)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.makedirs(os.path.join(out, "distractors"))
        groups, kinds, g = [], [], 0
        for c in classes[si::2]:
            mine = [f for f in files if os.path.dirname(f) == os.path.join(root, c)]
            h = [f for f in mine if f in held]
            rng.shuffle(h)
            trained = [f for f in mine if f not in held]
            rng.shuffle(trained)
            for f in h[:ORIGINALS_PER_CLASS]:
                g += 1
                gd = os.path.join("dups", "g%04d" % g)
                os.makedirs(os.path.join(out, gd))
                src = upscale(f)
                # The original is a JPEG file like a camera's; its copies
                # start from the same pixels it was made from.
                orig = os.path.join(gd, "original.jpg")
                with open(os.path.join(out, orig), "wb") as fo:
                    fo.write(jpeg_bytes(src, rng.randint(70, 95)))
                members = [orig]
                kinds.append((orig, "original", "original"))
                made = copies(src, rng)
                keep = rng.sample(sorted(made), rng.randint(MIN_COPIES, MAX_COPIES))
                for name in sorted(keep):
                    cls, im, fmt, opts = made[name]
                    p = os.path.join(gd, name + ext(fmt))
                    im.save(os.path.join(out, p), fmt, **opts)
                    members.append(p)
                    kinds.append((p, name, cls))
                groups.append(members)
                if g % 3 == 0:
                    p = os.path.join("distractors", "recolour-g%04d.jpg" % g)
                    recolour(src, rng, random.Random("%d-%d" % (args.seed * 10 + si, g))).save(os.path.join(out, p), "JPEG", quality=rng.randint(75, 95))
                    kinds.append((p, "recolour", "distractor"))
            for f in h[ORIGINALS_PER_CLASS:] + trained[:DISTRACTORS_PER_CLASS]:
                p = os.path.join("distractors", os.path.basename(f).rsplit(".", 1)[0] + ".jpg")
                upscale(f).save(os.path.join(out, p), "JPEG", quality=rng.randint(70, 95))
                kinds.append((p, "distractor", "distractor"))
        names = {os.path.basename(p).rsplit(".", 1)[0]: p for p, _, _ in kinds}
        for dup in KNOWN_DUPLICATES:
            if all(n in names for n in dup):
                groups.append([names[n] for n in dup])
        with open(os.path.join(out, "groups.tsv"), "w") as fo:
            fo.writelines("\t".join(m) + "\n" for m in groups)
        with open(os.path.join(out, "kinds.tsv"), "w") as fo:
            fo.writelines("\t".join(k) + "\n" for k in kinds)
        print("%s: %d groups, %d images" % (out, len(groups), len(kinds)))


if __name__ == "__main__":
    main()
