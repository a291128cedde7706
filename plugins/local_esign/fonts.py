"""The Chinese font the contract is set in: Noto Sans SC, cut down to the characters of one document.

The font comes from the PyPI package ``justmytype-intl-cjk`` (SIL Open Font License 1.1), a project
dependency, so ``pip install`` is the whole set-up. It is a variable TrueType font (weight axis 100-900)
of 17 MB; instancing the whole font at a weight takes close to a minute, so :func:`document_fonts`
first subsets it to the characters the document uses (about a second), then instantiates that small
font at the regular weight and writes it as a static TTF file that fpdf2 embeds; the bold font holds
only the characters of the headings, which come from the template, so its cut is reused. Layout
tables are dropped: fpdf2 sets CJK text glyph by glyph without shaping, and merging them triples the
time.

A character the font lacks would print as an empty box in a signed contract, so :func:`document_fonts`
refuses it with :class:`MissingGlyphError` naming the characters instead.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer

from core.errors import LoanFactoryError

FONT_PACKAGE = "justmytype_intl_cjk"
FONT_RESOURCE = "fonts/ofl/notosanssc/NotoSansSC[wght].ttf"
REGULAR_WEIGHT = 400
BOLD_WEIGHT = 700


class FontUnavailableError(LoanFactoryError):
    """The CJK font package ``justmytype-intl-cjk`` is not installed (``pip install -e .`` installs it)."""


class MissingGlyphError(LoanFactoryError):
    """The contract text holds characters the font cannot draw; ``value`` lists them."""


@dataclass(frozen=True)
class DocumentFonts:
    """Paths of the static regular and bold TTF files cut for one document."""

    regular: Path
    bold: Path


def font_path() -> Path:
    """The variable Noto Sans SC file shipped by ``justmytype-intl-cjk``."""
    try:
        path = Path(str(files(FONT_PACKAGE) / FONT_RESOURCE))
    except ModuleNotFoundError:
        raise FontUnavailableError("the CJK font package justmytype-intl-cjk is not installed",
                                   field="font") from None
    if not path.is_file():
        raise FontUnavailableError(f"font file {path} is missing from justmytype-intl-cjk", field="font")
    return path


@lru_cache(maxsize=1)
def _cmap() -> frozenset[int]:
    font = TTFont(font_path(), lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


def missing_characters(text: str) -> str:
    """The distinct characters of ``text`` the font has no glyph for (whitespace ignored), in order."""
    cmap = _cmap()
    seen: dict[str, None] = {}
    for char in text:
        if not char.isspace() and ord(char) not in cmap:
            seen[char] = None
    return "".join(seen)


@lru_cache(maxsize=16)
def _cut(characters: frozenset[str], weight: int) -> bytes:
    """A static TTF of the font at ``weight`` holding ``characters`` and printable ASCII."""
    options = subset.Options()
    options.layout_features = []  # fpdf2 lays CJK out glyph by glyph; merging GSUB/GPOS would triple the time
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE"]
    options.hinting = False
    options.notdef_outline = True
    options.name_IDs = ["*"]
    font = TTFont(font_path(), recalcTimestamp=False, lazy=True)
    try:
        subsetter = subset.Subsetter(options)
        subsetter.populate(text="".join(sorted(characters | ASCII)))
        subsetter.subset(font)
        static = instancer.instantiateVariableFont(font, {"wght": weight}, inplace=True)
        out = io.BytesIO()
        static.save(out)
        return out.getvalue()
    finally:
        font.close()


ASCII = frozenset(chr(c) for c in range(0x20, 0x7F))


@contextmanager
def document_fonts(text: str, bold_text: str) -> Iterator[DocumentFonts]:
    """A regular font holding the characters of ``text`` and a bold one holding those of ``bold_text``.

    The bold text of a contract (title, headings) comes from its template, so its cut is nearly always one
    already made: the last cuts are kept in memory. The files live in a temporary directory removed when
    the ``with`` block ends; fpdf2 reads them when the font is added, so the PDF must be output inside.

    Raises:
        MissingGlyphError: the text uses characters the font lacks.
        FontUnavailableError: the font package is not installed.
    """
    missing = missing_characters(text + bold_text)
    if missing:
        raise MissingGlyphError(f"contract text: the font has no glyph for {missing!r}", field="contract",
                                value=missing)
    with tempfile.TemporaryDirectory(prefix="lf-esign-fonts-") as directory:
        paths = {}
        for style, chars, weight in (("regular", text, REGULAR_WEIGHT), ("bold", bold_text, BOLD_WEIGHT)):
            paths[style] = Path(directory) / f"NotoSansSC-{style}.ttf"
            paths[style].write_bytes(_cut(frozenset(chars), weight))
        yield DocumentFonts(regular=paths["regular"], bold=paths["bold"])
