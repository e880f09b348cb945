"""Reading the release documents back as a scanner or a reader would: text with pypdf, and the
bars of every Code 128 symbol, decoded from the rectangles drawn on the page with an
independent Code 128 table, so a test checks what a scanner would read, not what the renderer
says it encoded."""

import io
import re

import pypdf
from pypdf.generic import ContentStream


def norm_text(text: str) -> str:
    """Whitespace collapsed, and a word broken after its own hyphen at a line end joined again
    (so "Replication- competent"); apply it to expected text too ("CD3- Flow")."""
    return re.sub(r"(?<=\w)- (?=\w)", "-", " ".join(text.split()))


def page_texts(pdf: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [norm_text(page.extract_text()) for page in reader.pages]


def _mul(m, n):
    """PDF matrix product m x n (apply m, then n)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return [
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    ]


def _apply(m, x, y):
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def rects(page, reader):
    """Rectangles painted on a page, in page coordinates: (filled, stroked) lists of
    (x0, y0, x1, y1). Follows q/Q/cm so translated drawings land where they are seen."""
    ctm = [1, 0, 0, 1, 0, 0]
    stack, pending, filled, stroked = [], [], [], []
    for operands, op in ContentStream(page.get_contents(), reader).operations:
        if op == b"q":
            stack.append(ctm)
        elif op == b"Q":
            ctm = stack.pop()
        elif op == b"cm":
            ctm = _mul([float(v) for v in operands], ctm)
        elif op == b"re":
            x, y, w, h = (float(v) for v in operands)
            (ax, ay), (bx, by) = _apply(ctm, x, y), _apply(ctm, x + w, y + h)
            pending.append((min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)))
        elif op in (b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*", b"S", b"s", b"n"):
            if op in (b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"):
                filled += pending
            if op in (b"S", b"s", b"B", b"B*", b"b", b"b*"):
                stroked += pending
            pending = []
    return filled, stroked


def text_runs(page):
    """(text, x, y) of every text run: its origin in page coordinates."""
    runs = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            x, y = _apply(cm, tm[4], tm[5])
            runs.append((text.strip(), x, y))

    page.extract_text(visitor_text=visit)
    return runs


# Code 128 symbol values 0..106 as bar/space widths in modules (ISO/IEC 15417, table 1),
# written out here rather than taken from reportlab, so the decoder is an independent check.
_C128_TABLE = """
212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 221312 231212
112232 122132 122231 113222 123122 123221 223211 221132 221231 213212 223112 312131
311222 321122 321221 312212 322112 322211 212123 212321 232121 111323 131123 131321
112313 132113 132311 211313 231113 231311 112133 112331 132131 113123 113321 133121
313121 211331 231131 213113 213311 213131 311123 311321 331121 312113 312311 332111
314111 221411 431111 111224 111422 121124 121421 141122 141221 112214 112412 122114
122411 142112 142211 241211 221114 413111 241112 134111 111242 121142 121241 114212
124112 124211 411212 421112 421211 212141 214121 412121 111143 111341 131141 114113
114311 411113 411311 113141 114131 311141 411131 211412 211214 211232 2331112
"""
C128_PATTERNS = _C128_TABLE.split()
assert len(C128_PATTERNS) == 107 and all(sum(map(int, p)) == 11 for p in C128_PATTERNS[:106])
C128_VALUE = {pattern: value for value, pattern in enumerate(C128_PATTERNS)}
START_A, START_B, START_C, STOP = 103, 104, 105, 106


def decode_code128_values(values: list[int]) -> str:
    """Symbol values (start .. data .. check) -> data characters; checks the check symbol."""
    start, *data, check = values
    assert check == (start + sum(i * v for i, v in enumerate(data, start=1))) % 103
    code = {START_A: "A", START_B: "B", START_C: "C"}[start]
    out = []
    for value in data:
        if code == "C":
            if value < 100:
                out.append(f"{value:02d}")
            else:
                code = {100: "B", 101: "A"}[value]
        elif value == 99:
            code = "C"
        elif code == "B" and value == 101 or code == "A" and value == 100:
            code = "A" if code == "B" else "B"
        else:
            assert value < 96, f"unexpected function character {value}"
            if code == "B":
                out.append(chr(32 + value))
            else:
                out.append(chr(32 + value) if value < 64 else chr(value - 64))
    return "".join(out)


def _decode_bars(bars) -> str:
    """Bars of one symbol, left to right: decode their widths as a scanner would."""
    unit = min(x1 - x0 for x0, _, x1, _ in bars)
    widths = []
    for i, (x0, _, x1, _) in enumerate(bars):
        widths.append((x1 - x0) / unit)
        if i + 1 < len(bars):
            widths.append((bars[i + 1][0] - x1) / unit)
    modules = [round(w) for w in widths]
    assert all(abs(w - m) < 0.05 for w, m in zip(widths, modules, strict=True)), widths
    assert all(1 <= m <= 4 for m in modules), modules
    assert (len(modules) - 7) % 6 == 0
    symbols = ["".join(map(str, modules[i : i + 6])) for i in range(0, len(modules) - 7, 6)]
    assert "".join(map(str, modules[-7:])) == C128_PATTERNS[STOP]
    return decode_code128_values([C128_VALUE[s] for s in symbols])


def barcodes(page, reader) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Every Code 128 symbol drawn on the page: (decoded data, bounding box)."""
    filled, _ = rects(page, reader)
    rows: dict[tuple[float, float], list] = {}
    for rect in filled:
        rows.setdefault((round(rect[1], 2), round(rect[3], 2)), []).append(rect)
    found = []
    for bars in rows.values():
        if len(bars) < 10:
            continue
        bars.sort()
        unit = min(x1 - x0 for x0, _, x1, _ in bars)
        symbol = [bars[0]]
        for bar in bars[1:]:
            if bar[0] - symbol[-1][2] > 6 * unit:  # a quiet zone: the next symbol begins
                found.append(symbol)
                symbol = []
            symbol.append(bar)
        found.append(symbol)
    return [
        (_decode_bars(s), (s[0][0], s[0][1], s[-1][2], s[0][3]))
        for s in sorted(found, key=lambda s: (-s[0][1], s[0][0]))
    ]


def reader_and_pages(pdf: bytes):
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return reader, reader.pages
