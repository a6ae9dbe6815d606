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


# ---------------------------------------------------------------- stage 3: the edits users make
# (issue 14) Each takes and returns a PIL RGB image at the working size.

def _rotate_small(img, rng):
    """Small-angle rotation (2-20 degrees either way) with a fill colour, the
    canvas either expanded (corners filled) or kept (the photo cut)."""
    ang = rng.uniform(2, 20) * rng.choice([-1, 1])
    if rng.random() < 0.5:
        return img.rotate(ang, Image.BICUBIC, expand=True, fillcolor=_rand_color(rng))
    out = img.rotate(ang, Image.BICUBIC, expand=False, fillcolor=_rand_color(rng))
    if rng.random() < 0.5:  # cropped back inside the rotated photo
        w, h = out.size
        f = 0.5 * abs(np.sin(np.radians(ang))) + 0.05
        out = out.crop((int(w * f / 2), int(h * f / 2), w - int(w * f / 2), h - int(h * f / 2)))
    return out


def _canvas(img, rng, lo=0.25, hi=0.6):
    """The photo shrunk and placed on a plain canvas, covering 25-60 % of its
    area, anywhere on it (framed, letterboxed, a slide, a product card)."""
    w, h = img.size
    frac = rng.uniform(lo, hi)
    cr = np.exp(rng.uniform(np.log(0.6), np.log(1.7)))  # canvas aspect w/h
    ca = w * h / frac
    cw, ch = int(round((ca * cr) ** 0.5)), int(round((ca / cr) ** 0.5))
    s = min(cw / w, ch / h, 1.0) * 0.999
    s = min(s, (frac * cw * ch / (w * h)) ** 0.5)
    nw, nh = max(4, int(w * s)), max(4, int(h * s))
    photo = img.resize((nw, nh), Image.BICUBIC)
    col = _rand_color(rng)
    canvas = Image.new("RGB", (max(cw, nw), max(ch, nh)), col)
    if rng.random() < 0.3:  # a soft gradient instead of a flat colour
        c2 = _rand_color(rng)
        g = np.linspace(0, 1, canvas.height, dtype=np.float32)[:, None, None]
        a = np.array(col, np.float32) * (1 - g) + np.array(c2, np.float32) * g
        canvas = Image.fromarray(np.repeat(a, canvas.width, axis=1).astype(np.uint8))
    x = rng.randint(0, canvas.width - nw)
    y = rng.randint(0, canvas.height - nh)
    canvas.paste(photo, (x, y))
    if rng.random() < 0.3:
        canvas = _text(canvas, rng)
    return _to_work(canvas)


def _crop_sided(img, rng, min_area=0.25):
    """One-sided or off-centre crop down to min_area: an edge or corner of the
    photo is kept (a cropped-off caption, a reframed subject)."""
    w, h = img.size
    a = rng.uniform(min_area, 0.85)
    mode = rng.random()
    if mode < 0.35:  # one side cut: full height or full width
        if rng.random() < 0.5:
            cw = max(4, int(w * a))
            x = 0 if rng.random() < 0.5 else w - cw
            return img.crop((x, 0, x + cw, h))
        ch = max(4, int(h * a))
        y = 0 if rng.random() < 0.5 else h - ch
        return img.crop((0, y, w, y + ch))
    r = np.exp(rng.uniform(np.log(0.6), np.log(1.6)))
    cw = min(w, max(4, int(round((a * w * h * r) ** 0.5))))
    ch = min(h, max(4, int(round(a * w * h / cw))))
    if mode < 0.7:  # a corner
        x = 0 if rng.random() < 0.5 else w - cw
        y = 0 if rng.random() < 0.5 else h - ch
    else:  # anywhere
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    return img.crop((x, y, x + cw, y + ch))


def _tone(img, rng):
    """Stronger tone curves: gamma, S-curves, fades, posterise, per-channel curves."""
    k = rng.random()
    if k < 0.3:
        g = np.exp(rng.uniform(np.log(0.4), np.log(2.5)))
        lut = [int(255 * (v / 255) ** g + 0.5) for v in range(256)] * 3
    elif k < 0.55:
        s = rng.uniform(4, 12) * rng.choice([1, -0.5])
        x = np.arange(256) / 255.0
        y = 1 / (1 + np.exp(-s * (x - 0.5)))
        y = (y - y.min()) / max(1e-6, y.max() - y.min())
        lut = [int(v * 255 + 0.5) for v in y] * 3
    elif k < 0.7:  # faded: raised blacks, lowered whites
        lo, hi = rng.uniform(20, 90), rng.uniform(170, 240)
        lut = [int(lo + (hi - lo) * v / 255) for v in range(256)] * 3
    elif k < 0.8:
        return ImageOps.posterize(img, rng.randint(2, 4))
    else:  # per-channel gains (white balance, cross-processing)
        lut = []
        for _ in range(3):
            g = np.exp(rng.uniform(np.log(0.6), np.log(1.6)))
            a = rng.uniform(0.7, 1.3)
            lut += [max(0, min(255, int(255 * a * (v / 255) ** g))) for v in range(256)]
    return img.point(lut)


def _duotone(img, rng):
    """Sepia or duotone: luminance mapped between a dark and a light colour."""
    g = ImageOps.grayscale(img)
    if rng.random() < 0.5:
        dark, light = (rng.randint(20, 60), rng.randint(10, 40), 0), (255, rng.randint(220, 245), rng.randint(170, 210))
    else:
        dark = tuple(rng.randrange(0, 120) for _ in range(3))
        light = tuple(rng.randrange(140, 256) for _ in range(3))
    return ImageOps.colorize(g, dark, light)


def _noise(img, rng):
    a = np.asarray(img, dtype=np.float32)
    nr = np.random.RandomState(rng.randrange(1 << 30))
    sigma = rng.uniform(3, 25)
    if rng.random() < 0.7:
        a = a + nr.normal(0, sigma, a.shape)
    else:  # luminance noise
        a = a + nr.normal(0, sigma, a.shape[:2])[..., None]
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def _sharpen(img, rng):
    return img.filter(ImageFilter.UnsharpMask(radius=rng.uniform(1, 3), percent=rng.randint(80, 300),
                                              threshold=rng.randint(0, 4)))


def _chrome(img, rng):
    """A screenshot of the photo: inside a window or app frame (title bar,
    toolbar, side panel, caption lines, status bar)."""
    w, h = img.size
    frac = rng.uniform(0.3, 0.7)
    W = int(round((w * h / frac * rng.uniform(0.8, 1.6)) ** 0.5))
    H = int(round(w * h / frac / W))
    s = min((W * 0.95) / w, (H * 0.8) / h, (frac * W * H / (w * h)) ** 0.5)
    nw, nh = max(4, int(w * s)), max(4, int(h * s))
    dark = rng.random() < 0.4
    bg = tuple(rng.randint(10, 50) for _ in range(3)) if dark else tuple(rng.randint(225, 255) for _ in range(3))
    fg = (200, 200, 200) if dark else (60, 60, 60)
    c = Image.new("RGB", (max(W, nw + 4), max(H, nh + 20)), bg)
    d = ImageDraw.Draw(c)
    bar = max(4, int(c.height * rng.uniform(0.05, 0.1)))
    d.rectangle((0, 0, c.width, bar), fill=tuple(max(0, v - 25) for v in bg))
    if rng.random() < 0.6:
        for i, col in enumerate([(237, 106, 94), (245, 191, 79), (98, 197, 84)]):
            r = bar // 4
            d.ellipse((bar // 2 + i * 3 * r, bar // 2 - r, bar // 2 + i * 3 * r + 2 * r, bar // 2 + r), fill=col)
    side = int(c.width * rng.uniform(0, 0.25)) if rng.random() < 0.5 else 0
    if side:
        d.rectangle((0, bar, side, c.height), fill=tuple(max(0, v - 12) for v in bg))
        for y in range(bar + 4, c.height - 4, max(4, bar // 2 + 3)):
            d.rectangle((4, y, max(5, side - rng.randint(4, max(5, side // 2))), y + max(1, bar // 5)), fill=fg)
    x = rng.randint(side, max(side, c.width - nw))
    y = rng.randint(bar + 1, max(bar + 1, c.height - nh))
    c.paste(img.resize((nw, nh), Image.BICUBIC), (x, y))
    for _ in range(rng.randint(0, 4)):  # text lines around the photo
        ly = rng.randint(bar, c.height - 3)
        if y - 2 < ly < y + nh + 2 and x - 2 < c.width // 2 < x + nw + 2:
            continue
        lx = rng.randint(side, max(side, c.width // 2))
        d.rectangle((lx, ly, min(c.width, lx + rng.randint(10, c.width // 2)), ly + max(1, bar // 5)), fill=fg)
    if rng.random() < 0.4:
        c = _text(c, rng)
    return _to_work(c)


_EDITS = [_rotate_small, _canvas, _crop_sided, _tone, _duotone, _noise, _sharpen, _chrome]


def edited_view(src, rng, size, p_edit=0.7):
    """The heavy view of stage 3 (--views edits): with probability p_edit one
    to three of the edits users make (small rotations, canvas placement,
    one-sided crops, tone curves, sepia/duotone, noise, sharpening, a
    screenshot inside UI chrome) in random order, followed by the asymmetric
    stage's heavy photometric ops at a lower strength; otherwise stage 2's
    heavy view."""
    if rng.random() >= p_edit:
        return view(src, rng, size, strength=1.4, crop_p=0.9, crop_min=0.25)
    n = rng.choice([1, 1, 2, 2, 3])
    ops = rng.sample(_EDITS, n)
    img = src
    # geometry on the source first (crop, then rotation), frames last
    order = {_crop_sided: 0, _rotate_small: 1, _tone: 2, _duotone: 2, _noise: 3, _sharpen: 3, _canvas: 4, _chrome: 4}
    ops.sort(key=lambda f: order[f])
    if _crop_sided not in ops and rng.random() < 0.3:
        img = _crop(img, rng, 0.5)
    img = _to_work(img)
    for f in ops:
        if f is _crop_sided:
            img = _to_work(_crop_sided(img, rng))
        else:
            img = f(img, rng)
    img = _dihedral(img, rng, 0.2, 0.5)
    if rng.random() < 0.3:
        img = _color(img, rng)
    if rng.random() < 0.15:
        img = _text(img.copy(), rng)
    if rng.random() < 0.1:
        img = ImageOps.grayscale(img).convert("RGB")
    if rng.random() < 0.15:
        w, h = img.size
        f = rng.uniform(0.3, 0.7)
        img = img.resize((max(4, int(w * f)), max(4, int(h * f))), Image.BILINEAR).resize((w, h), Image.BICUBIC)
    if rng.random() < 0.35:
        img = _jpeg(img, rng, rng.randint(15, 80))
    return to_tensor_array(img, size)
