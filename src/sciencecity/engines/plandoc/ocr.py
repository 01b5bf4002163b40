"""Reading a table given as an image (OCR), offline.

Official plans often print the indicator table and every 专栏 as pictures. This module finds the
table's grid (ruled lines, merged cells included) with numpy and recognises each cell with
RapidOCR (``rapidocr-onnxruntime``: the PP-OCR models ship inside the wheel, nothing is downloaded
at run time). A table without ruled lines falls back to text detection and groups the detected
lines into rows and columns. Every cell keeps its confidence: OCR results are never stored
without an officer's review.

Without the package, :func:`available` is False and the caller reports the image as not read.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from functools import lru_cache

_BLANK_INK = 0.004  # share of dark pixels below which a cell is empty
_LINE_SHARE = 0.55  # share of a row/column of pixels that must be dark to be a ruled line
#: The most pixels of a picture read by OCR: a table photographed at 50 megapixels. A document's embedded
#: picture is decoded whole, and a small PNG can declare 170 million pixels, under Pillow's own error limit.
MAX_PICTURE_PIXELS = 50_000_000


class PictureTooLarge(ValueError):
    """The picture declares more pixels than OCR reads; it is not decoded."""


@dataclass
class OcrCell:
    """One cell read from an image: its text and the recogniser's confidence (0–1)."""

    text: str
    confidence: float
    box: tuple[int, int, int, int] = (0, 0, 0, 0)  # left, top, right, bottom in image pixels


@dataclass
class OcrTable:
    """A table read from an image."""

    rows: list[list[OcrCell]]
    engine: str
    seconds: float
    method: str  # "grid" (ruled lines) or "lines" (text detection, no ruling)
    width: int = 0
    height: int = 0
    notes: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def _engine():
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


def available() -> bool:
    """True when an offline OCR package is installed."""
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except Exception:  # ImportError, or a broken onnxruntime install
        return False
    return True


def unavailable_reason() -> str:
    return "no OCR package is installed (rapidocr-onnxruntime)"


def engine_name() -> str:
    try:
        from importlib.metadata import version

        return f"RapidOCR {version('rapidocr-onnxruntime')} (PP-OCRv4, onnxruntime)"
    except Exception:  # pragma: no cover - metadata missing
        return "RapidOCR"


def _to_image(image):
    from PIL import Image

    if isinstance(image, bytes | bytearray):
        picture = Image.open(io.BytesIO(image))
    elif isinstance(image, str):
        picture = Image.open(image)
    elif hasattr(image, "read") and not hasattr(image, "convert"):
        picture = Image.open(image)
    else:
        picture = image
    width, height = picture.size
    if width * height > MAX_PICTURE_PIXELS:
        raise PictureTooLarge(f"{width} × {height} pixels, more than {MAX_PICTURE_PIXELS // 1_000_000} million")
    picture.load()
    return picture.convert("RGB")


def read_table_image(image) -> OcrTable:
    """Rows of cells read from a table image (bytes, a path, a file or a PIL image)."""
    import numpy as np

    start = time.perf_counter()
    picture = _to_image(image)
    # small scans are enlarged: the recogniser wants text at least ~20 px high
    if picture.height < 300 or picture.width < 300:
        factor = 2
        picture = picture.resize((picture.width * factor, picture.height * factor))
    gray = np.asarray(picture.convert("L"))
    dark = gray < 160
    rows_y = _lines(dark.mean(axis=1))
    cols_x = _lines(dark.mean(axis=0))
    if len(rows_y) == 2 and len(cols_x) == 2:
        # only a frame (a 专栏 printed as lines of text in one box): its inside has no ruling to follow
        inset = 6
        left, top = cols_x[0] + inset, rows_y[0] + inset
        inside = picture.crop((left, top, max(left + 1, cols_x[1] - inset), max(top + 1, rows_y[1] - inset)))
        rows = [[OcrCell(c.text, c.confidence, (c.box[0] + left, c.box[1] + top, c.box[2] + left, c.box[3] + top))
                 for c in row] for row in _read_lines(inside)]
        method = "lines"
    elif len(rows_y) >= 2 and len(cols_x) >= 2:
        rows = _read_grid(picture, dark, rows_y, cols_x)
        method = "grid"
    else:
        rows = _read_lines(picture)
        method = "lines"
    return OcrTable(rows, engine_name(), time.perf_counter() - start, method, picture.width, picture.height)


def read_page_lines(image) -> list[OcrCell]:
    """The text lines of a scanned page, top to bottom: each with its box and lowest confidence."""
    picture = _to_image(image)
    lines = []
    for row in _read_lines(picture):
        text = " ".join(c.text for c in row if c.text)
        if not text:
            continue
        box = (min(c.box[0] for c in row), min(c.box[1] for c in row),
               max(c.box[2] for c in row), max(c.box[3] for c in row))
        lines.append(OcrCell(text, min(c.confidence for c in row), box))
    return lines


def _lines(profile) -> list[int]:
    """Centres of runs of pixel rows (or columns) that are mostly dark: the ruled lines."""
    positions = [i for i, share in enumerate(profile) if share >= _LINE_SHARE]
    lines: list[int] = []
    run: list[int] = []
    for p in positions:
        if run and p - run[-1] > 1:
            lines.append(sum(run) // len(run))
            run = []
        run.append(p)
    if run:
        lines.append(sum(run) // len(run))
    return lines


def _has_line(dark, horizontal: bool, at: int, start: int, end: int) -> bool:
    """Is the ruled line at ``at`` drawn between ``start`` and ``end`` (or is the cell merged)?"""
    lo, hi = start + (end - start) // 5, end - (end - start) // 5
    if hi <= lo:
        return True
    band = dark[max(0, at - 2) : at + 3, lo:hi] if horizontal else dark[lo:hi, max(0, at - 2) : at + 3]
    axis = 0 if horizontal else 1
    return float(band.max(axis=axis).mean()) >= 0.6


def _read_grid(picture, dark, rows_y: list[int], cols_x: list[int]) -> list[list[OcrCell]]:
    n_rows, n_cols = len(rows_y) - 1, len(cols_x) - 1
    owner = [[(r, c) for c in range(n_cols)] for r in range(n_rows)]
    for r in range(n_rows):
        for c in range(n_cols):
            if c > 0 and not _has_line(dark, False, cols_x[c], rows_y[r], rows_y[r + 1]):
                owner[r][c] = owner[r][c - 1]  # merged with the cell on the left (colspan)
            elif r > 0 and not _has_line(dark, True, rows_y[r], cols_x[c], cols_x[c + 1]):
                owner[r][c] = owner[r - 1][c]  # merged with the cell above (rowspan)
    regions: dict[tuple[int, int], list[int]] = {}
    for r in range(n_rows):
        for c in range(n_cols):
            o = owner[r][c]
            box = regions.setdefault(o, [cols_x[c], rows_y[r], cols_x[c + 1], rows_y[r + 1]])
            box[0], box[1] = min(box[0], cols_x[c]), min(box[1], rows_y[r])
            box[2], box[3] = max(box[2], cols_x[c + 1]), max(box[3], rows_y[r + 1])
    crops, keys = [], []
    texts: dict[tuple[int, int], OcrCell] = {}
    for key, (left, top, right, bottom) in regions.items():
        inset = 5
        region = dark[top + inset : bottom - inset, left + inset : right - inset]
        if region.size == 0 or float(region.mean()) < _BLANK_INK:
            texts[key] = OcrCell("", 1.0, (left, top, right, bottom))
            continue
        # the recogniser wants a tight text line: crop to the ink, with a small margin
        ys = region.any(axis=1).nonzero()[0]
        xs = region.any(axis=0).nonzero()[0]
        x0, x1 = left + inset + int(xs[0]), left + inset + int(xs[-1]) + 1
        y0, y1 = top + inset + int(ys[0]), top + inset + int(ys[-1]) + 1
        crops.append(_pad(picture.crop((max(left, x0 - 3), max(top, y0 - 3), min(right, x1 + 3), min(bottom, y1 + 3)))))
        keys.append((key, (left, top, right, bottom)))
    for (key, box), (text, score) in zip(keys, _recognise(crops), strict=True):
        texts[key] = OcrCell(text, score, box)
    rows = []
    for r in range(n_rows):
        row = []
        for c in range(n_cols):
            o = owner[r][c]
            row.append(texts[o] if o == (r, c) else OcrCell("", 1.0, texts[o].box))
        rows.append(row)
    return rows


def _pad(crop):
    from PIL import Image

    padded = Image.new("RGB", (crop.width + 16, crop.height + 16), "white")
    padded.paste(crop, (8, 8))
    return padded


def _recognise(crops) -> list[tuple[str, float]]:
    """Recognition only (no detection) on each cell: fast, and single digits are not missed."""
    import numpy as np

    if not crops:
        return []
    engine = _engine()
    arrays = [np.asarray(c)[:, :, ::-1].copy() for c in crops]  # RGB → BGR as OpenCV expects
    results, _elapsed = engine.text_rec(arrays)
    return [(str(text).strip(), round(float(score), 3)) for text, score in results]


def _read_lines(picture) -> list[list[OcrCell]]:
    """No ruled lines: detect text lines, then group them into rows by height and order by x."""
    import numpy as np

    result, _elapsed = _engine()(np.asarray(picture)[:, :, ::-1].copy())
    boxes = []
    for points, text, score in result or []:
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        boxes.append((min(xs), min(ys), max(xs), max(ys), str(text).strip(), float(score)))
    if not boxes:
        return []
    heights = sorted(b[3] - b[1] for b in boxes)
    tolerance = heights[len(heights) // 2] * 0.6
    boxes.sort(key=lambda b: (b[1] + b[3]) / 2)
    rows: list[list[tuple]] = []
    for box in boxes:
        middle = (box[1] + box[3]) / 2
        if rows and abs(middle - sum((b[1] + b[3]) / 2 for b in rows[-1]) / len(rows[-1])) <= tolerance:
            rows[-1].append(box)
        else:
            rows.append([box])
    return [
        [OcrCell(b[4], round(b[5], 3), (int(b[0]), int(b[1]), int(b[2]), int(b[3]))) for b in sorted(row)]
        for row in rows
    ]
