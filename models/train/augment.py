"""Training views and evaluation preprocessing for the built-in model.

Every view is made from a PIL image at a working resolution and ends with
exactly the evaluation resize (squash to SIZE x SIZE, PIL bicubic), so the
network sees at training time what the Go preprocessor gives it later.
Randomness comes only from the random.Random passed in, so a view is a pure
function of (image, seed).
"""
import io
import os
import random
import string

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
RESCALE = 1.0 / 255.0
WORK = 128  # longer side of the working canvas for augmentations

_FONT_FILES = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
]
_font_cache = {}


def _font(rng, px):
    files = [f for f in _FONT_FILES if os.path.exists(f)]
    if not files:
        return ImageFont.load_default()
    key = (rng.choice(files), px)
    if key not in _font_cache:
        _font_cache[key] = ImageFont.truetype(key[0], px)
    return _font_cache[key]


def to_tensor_array(img, size):
    """Eval preprocessing after decode+orient+RGB: squash-resize to size x size
    (PIL bicubic, antialiased), x/255, (x-mean)/std, CHW float32."""
    if img.size != (size, size):
        img = img.resize((size, size), Image.BICUBIC)
    a = np.asarray(img, dtype=np.float32) * np.float32(RESCALE)
    a = (a - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    return np.ascontiguousarray(a.transpose(2, 0, 1))


def load_eval_image(path):
    """open -> EXIF transpose -> RGB, the decode half of the eval pipeline."""
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im)
        return im.convert("RGB")


def _rand_color(rng):
    r = rng.random()
    if r < 0.35:
        return (0, 0, 0)
    if r < 0.6:
        return (255, 255, 255)
    return tuple(rng.randrange(256) for _ in range(3))


def _crop(img, rng, min_area=0.3):
    w, h = img.size
    area = w * h
    for _ in range(10):
        a = rng.uniform(min_area, 1.0) * area
        logr = rng.uniform(np.log(3 / 4), np.log(4 / 3))
        r = np.exp(logr)
        cw = int(round((a * r) ** 0.5))
        ch = int(round((a / r) ** 0.5))
        if 0 < cw <= w and 0 < ch <= h:
            x = rng.randint(0, w - cw)
            y = rng.randint(0, h - ch)
            return img.crop((x, y, x + cw, y + ch))
    return img


def _to_work(img):
    w, h = img.size
    s = WORK / max(w, h)
    nw, nh = max(1, int(round(w * s))), max(1, int(round(h * s)))
    if (nw, nh) == (w, h):
        return img
    return img.resize((nw, nh), Image.BICUBIC)


def _dihedral(img, rng, p_rot, p_flip):
    if rng.random() < p_flip:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    if rng.random() < p_rot:
        img = img.transpose(rng.choice([Image.ROTATE_90, Image.ROTATE_180, Image.ROTATE_270]))
    return img


def _text(img, rng):
    d = ImageDraw.Draw(img)
    w, h = img.size
    px = max(6, int(h * rng.uniform(0.06, 0.16)))
    f = _font(rng, px)
    n = rng.randint(3, 18)
    s = "".join(rng.choice(string.ascii_letters + string.digits + "  ©()") for _ in range(n))
    x = rng.randint(0, max(0, w - w // 3))
    y = rng.randint(0, max(0, h - px))
    col = _rand_color(rng)
    if rng.random() < 0.3:  # outlined / shadowed text
        d.text((x + 1, y + 1), s, fill=(0, 0, 0), font=f)
    d.text((x, y), s, fill=col, font=f)
    return img


def _logo(img, rng):
    d = ImageDraw.Draw(img)
    w, h = img.size
    s = int(min(w, h) * rng.uniform(0.08, 0.25))
    x = rng.randint(0, max(0, w - s))
    y = rng.randint(0, max(0, h - s))
    col = _rand_color(rng)
    if rng.random() < 0.5:
        d.ellipse((x, y, x + s, y + s), fill=col)
    else:
        d.rectangle((x, y, x + s, y + s // 2), fill=col)
    return img


def _border(img, rng):
    w, h = img.size
    f = rng.uniform(0.03, 0.2)
    if rng.random() < 0.7:  # uniform frame
        l = t = r = b = int(f * max(w, h))
    else:  # letterbox / pillarbox or uneven padding
        l, r = int(rng.uniform(0, f) * w), int(rng.uniform(0, f) * w)
        t, b = int(rng.uniform(0, f) * h), int(rng.uniform(0, f) * h)
    return ImageOps.expand(img, border=(l, t, r, b), fill=_rand_color(rng))


def _color(img, rng):
    ops = [0, 1, 2, 3, 4]
    rng.shuffle(ops)
    for o in ops:
        if o == 0 and rng.random() < 0.8:
            img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.6, 1.5))
        elif o == 1 and rng.random() < 0.8:
            img = ImageEnhance.Contrast(img).enhance(rng.uniform(0.6, 1.5))
        elif o == 2 and rng.random() < 0.8:
            img = ImageEnhance.Color(img).enhance(rng.uniform(0.5, 1.6))
        elif o == 3 and rng.random() < 0.6:
            h, s, v = img.convert("HSV").split()
            shift = int(rng.uniform(-0.3, 0.3) * 255)
            h = h.point(lambda x: (x + shift) % 256)
            img = Image.merge("HSV", (h, s, v)).convert("RGB")
        elif o == 4 and rng.random() < 0.4:  # levels: gain + offset with clipping
            a, b = rng.uniform(0.7, 1.5), rng.uniform(-50, 80)
            img = img.point([max(0, min(255, int(a * v + b))) for v in range(256)] * 3)
    return img


def _jpeg(img, rng, q):
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=q)
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out.convert("RGB")


def view(src, rng, size, strength=1.0, crop_p=0.85, crop_min=0.3):
    """One random near-duplicate view of src (PIL RGB) as a CHW float32 array.

    strength scales the probabilities of the photometric/overlay ops; crop_p
    and crop_min set how often and how deep the random resized crop goes."""
    p = strength
    img = src
    if rng.random() < crop_p:
        img = _crop(img, rng, crop_min)
    img = _to_work(img)
    img = _dihedral(img, rng, 0.35, 0.5)
    if rng.random() < 0.15 * p:  # aspect squash
        w, h = img.size
        if rng.random() < 0.5:
            img = img.resize((w, max(1, int(h * rng.uniform(0.5, 0.9)))), Image.BICUBIC)
        else:
            img = img.resize((max(1, int(w * rng.uniform(0.5, 0.9))), h), Image.BICUBIC)
    if rng.random() < 0.25 * p:
        img = _border(img, rng)
    if rng.random() < 0.25 * p:
        img = _text(img.copy(), rng)
    if rng.random() < 0.1 * p:
        img = _logo(img.copy(), rng)
    if rng.random() < 0.8 * p:
        img = _color(img, rng)
    if rng.random() < 0.2 * p:
        img = ImageOps.grayscale(img).convert("RGB")
    if rng.random() < 0.25 * p:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 2.0) * max(img.size) / WORK))
    if rng.random() < 0.25 * p:  # downscale then upscale
        w, h = img.size
        f = rng.uniform(0.2, 0.6)
        img = img.resize((max(4, int(w * f)), max(4, int(h * f))), Image.BILINEAR).resize((w, h), Image.BICUBIC)
    if rng.random() < 0.35 * p:
        img = _jpeg(img, rng, rng.randint(8, 60))
    return to_tensor_array(img, size)


# Deterministic "copy" transforms modelled on the scored benchmark's copy types,
# used only for the held-out validation set that picks the thresholds.
def copy_variants(src, rng):
    w, h = src.size
    out = {}
    out["thumb"] = src.resize((max(8, w // 3), max(8, h // 3)), Image.BICUBIC)
    out["half"] = src.resize((max(8, w // 2), max(8, h // 2)), Image.BICUBIC)
    out["squash"] = src.resize((w, max(8, int(h * 0.7))), Image.BICUBIC)
    out["blur"] = src.filter(ImageFilter.GaussianBlur(max(1.0, w / 100)))
    hh, s, v = src.convert("HSV").split()
    out["hue"] = Image.merge("HSV", (hh.point(lambda x: (x + 40) % 256), s, v)).convert("RGB")
    cw, ch = int(w * 0.6), int(h * 0.6)
    out["crop60"] = src.crop(((w - cw) // 2, (h - ch) // 2, (w - cw) // 2 + cw, (h - ch) // 2 + ch))
    cw, ch = int(w * 0.8), int(h * 0.8)
    out["crop80"] = src.crop((w - cw, 0, w, ch))
    t = src.copy()
    ImageDraw.Draw(t).text((w // 6, int(h * 0.85)), "(c) sample 2026", fill=(255, 255, 255),
                           font=_font(random.Random(0), max(6, h // 16)))
    out["text"] = t
    out["border"] = ImageOps.expand(src, border=max(2, w // 10), fill=(0, 0, 0))
    out["bright"] = ImageEnhance.Contrast(ImageEnhance.Brightness(src).enhance(1.3)).enhance(1.2)
    out["jpeg20"] = _jpeg(src, rng, 20)
    out["flip"] = src.transpose(Image.FLIP_LEFT_RIGHT)
    out["rot90"] = src.transpose(Image.ROTATE_90)
    out["gray"] = ImageOps.grayscale(src).convert("RGB")
    return out
