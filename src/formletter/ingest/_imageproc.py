"""Image clean-up before OCR: flattening to grey, skew estimation, binarisation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["binarize", "estimate_skew", "otsu_threshold", "rotate", "to_gray"]

#: skew angles searched, in degrees either side of level
MAX_SKEW = 12.0
_WORK_WIDTH = 900


def to_gray(image: Image.Image) -> Image.Image:
    """An 8-bit greyscale copy, upright per EXIF, transparency flattened onto white."""
    from PIL import Image as PILImage
    from PIL import ImageOps

    img = ImageOps.exif_transpose(image) or image
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scaled = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
        return PILImage.fromarray(scaled.astype(np.uint8))
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = PILImage.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = PILImage.alpha_composite(background, rgba)
    return img.convert("L")


def otsu_threshold(arr: npt.NDArray[np.uint8]) -> int:
    """Otsu's global threshold for an 8-bit array."""
    hist = np.bincount(arr.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    if total == 0:
        return 128
    levels = np.arange(256, dtype=np.float64)
    weight_bg = np.cumsum(hist)
    weight_fg = total - weight_bg
    mean_bg_sum = np.cumsum(hist * levels)
    mean_all = mean_bg_sum[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean_all * weight_bg / total - mean_bg_sum) ** 2 / (weight_bg * weight_fg)
    between = np.nan_to_num(between, nan=0.0, posinf=0.0, neginf=0.0)
    return int(np.argmax(between))


def _profile_score(ink: Image.Image, angle: float) -> float:
    from PIL import Image as PILImage

    rotated = ink.rotate(angle, resample=PILImage.Resampling.BILINEAR, expand=True, fillcolor=0)
    rows = np.asarray(rotated, dtype=np.float64).sum(axis=1)
    return float(np.sum(np.diff(rows) ** 2))


def estimate_skew(gray: Image.Image) -> float:
    """The rotation (degrees, counter-clockwise, as for ``Image.rotate``) that levels the
    text lines, found by maximising the sharpness of the horizontal projection profile."""
    from PIL import Image as PILImage

    img = gray
    if img.width > _WORK_WIDTH:
        height = max(1, round(img.height * _WORK_WIDTH / img.width))
        img = img.resize((_WORK_WIDTH, height), PILImage.Resampling.BILINEAR)
    arr = np.asarray(img, dtype=np.uint8)
    ink = arr < otsu_threshold(arr)
    share = float(ink.mean())
    if share < 0.002 or share > 0.5:
        return 0.0
    ink_img = PILImage.fromarray((ink * 255).astype(np.uint8))
    best_angle, best_score = 0.0, _profile_score(ink_img, 0.0)
    for angle in np.arange(-MAX_SKEW, MAX_SKEW + 0.01, 1.0):
        score = _profile_score(ink_img, float(angle))
        if score > best_score:
            best_angle, best_score = float(angle), score
    centre = best_angle
    for angle in np.arange(centre - 0.9, centre + 0.91, 0.1):
        score = _profile_score(ink_img, float(angle))
        if score > best_score:
            best_angle, best_score = float(angle), score
    return round(best_angle, 2)


def rotate(gray: Image.Image, angle: float) -> Image.Image:
    """``gray`` turned by ``angle`` degrees, corners filled white."""
    from PIL import Image as PILImage

    return gray.rotate(angle, resample=PILImage.Resampling.BICUBIC, expand=True, fillcolor=255)


def binarize(gray: Image.Image) -> Image.Image:
    """Black text on white by a local (adaptive) threshold, robust to uneven lighting."""
    from PIL import Image as PILImage
    from PIL import ImageFilter

    radius = max(8, min(gray.width, gray.height) // 60)
    local = np.asarray(gray.filter(ImageFilter.BoxBlur(radius)), dtype=np.int16)
    arr = np.asarray(gray, dtype=np.int16)
    out = np.where(arr < local - 12, 0, 255).astype(np.uint8)
    return PILImage.fromarray(out)
