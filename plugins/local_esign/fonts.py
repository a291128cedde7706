"""The Chinese font the contract is set in: Noto Sans SC, cut down to the characters contracts use.

The font comes from the PyPI package ``justmytype-intl-cjk`` (SIL Open Font License 1.1), a project
dependency, so ``pip install`` is the whole set-up. It is a variable TrueType font (weight axis 100-900)
of 17 MB: any cut from it costs about two seconds before the first glyph (reading the big tables), and
instancing all of it at a weight close to a minute. Cutting one font per contract (its own characters)
made every rendering cost seconds, and under load more than the plugin timeout.

So the regular text is set in one *common* cut, made once per machine: every character of GB 2312
(6,763 hanzi and its punctuation, which covers the template and nearly every name and address), the
Latin-1 signs, general punctuation, CJK symbols and full-width forms, printable ASCII and the layout's own
text, instanced at the regular weight. It is built on a background thread
(:func:`warm_up`, started when the plugin is imported) and kept on disk under
``$XDG_CACHE_HOME/loanfactory/fonts`` (``~/.cache`` by default; the file name carries a digest of the font
file, the character set, the weight and the fontTools version), so each later process only reads it.
fpdf2 embeds only the glyphs a document uses. The few characters of a document outside the common cut (a
rare name character) go to a small *extra* cut made for that document, set as fpdf2's fallback font; the
bold headings come from the template and get one cut, kept like the common one. Layout tables are
dropped: fpdf2 sets CJK text glyph by glyph without shaping, and merging them triples the time.

A character the font lacks would print as an empty box in a signed contract, so :func:`document_fonts`
refuses it with :class:`MissingGlyphError` naming the characters instead.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import fontTools
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


def _cut(characters: frozenset[str], weight: int) -> bytes:
    """A static TTF of the font at ``weight`` holding ``characters`` and printable ASCII (seconds)."""
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


@lru_cache(maxsize=1)
def cache_dir() -> Path:
    """Where kept cuts live: ``$XDG_CACHE_HOME/loanfactory/fonts`` (``~/.cache/...`` by default), or a
    directory under the system's temporary directory when that one cannot be created."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    for directory in (Path(base) / "loanfactory" / "fonts", Path(tempfile.gettempdir()) / "loanfactory-fonts"):
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(directory, os.W_OK):
            return directory
    raise OSError("no writable directory to keep the contract font in")


def _kept_path(characters: frozenset[str], weight: int) -> Path:
    source = font_path()
    stat = source.stat()
    digest = hashlib.sha256()
    for part in (source.name, str(stat.st_size), str(int(stat.st_mtime)), fontTools.version, str(weight),
                 "".join(sorted(characters))):
        digest.update(part.encode())
        digest.update(b"\0")
    return cache_dir() / f"NotoSansSC-{weight}-{digest.hexdigest()[:24]}.ttf"


_kept_locks: dict[Path, threading.Lock] = {}
_locks_lock = threading.Lock()


def kept_cut(characters: frozenset[str], weight: int) -> Path:
    """The file of the cut of ``characters`` at ``weight``, made once per machine and kept on disk.

    Concurrent makers (threads or processes) each write a temporary file and rename it into place, so a
    reader never sees half a font; within a process the lock makes the second caller wait for the first.
    """
    path = _kept_path(characters, weight)
    if path.is_file():
        return path
    with _locks_lock:
        lock = _kept_locks.setdefault(path, threading.Lock())
    with lock:
        if not path.is_file():
            with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as part:
                part.write(_cut(characters, weight))
            os.replace(part.name, path)
    return path


ASCII = frozenset(chr(c) for c in range(0x20, 0x7F))


def _gb2312() -> frozenset[str]:
    """Every character of GB 2312: the symbol rows (0xA1-0xA9) and both levels of hanzi (0xB0-0xF7)."""
    chars = set()
    for high in (*range(0xA1, 0xAA), *range(0xB0, 0xF8)):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


@lru_cache(maxsize=4)
def common_characters(layout_text: str) -> frozenset[str]:
    """The characters of the common regular cut: GB 2312, the Latin-1 signs (¥), general punctuation, CJK
    symbols, full-width forms and ``layout_text``, less any the font lacks."""
    blocks = (range(0xA1, 0x100), range(0x2010, 0x2070), range(0x3000, 0x3040), range(0xFF01, 0xFFEF))
    wanted = _gb2312() | {chr(code) for block in blocks for code in block} | set(layout_text)
    return frozenset(wanted - set(missing_characters("".join(wanted))))


class _Warming:
    """The background thread making the common cut; renderings wait for it (a call that times out stops
    waiting, the thread goes on, so the next rendering finds the cut made)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.threads: dict[str, threading.Thread] = {}
        self.paths: dict[str, Path] = {}

    def start(self, layout_text: str) -> threading.Thread:
        with self.lock:
            thread = self.threads.get(layout_text)
            if thread is None:
                thread = threading.Thread(target=self._make, args=(layout_text,), name="loanfactory-font-cut",
                                          daemon=True)
                self.threads[layout_text] = thread
                thread.start()
            return thread

    def _make(self, layout_text: str) -> None:
        try:
            self.paths[layout_text] = kept_cut(common_characters(layout_text), REGULAR_WEIGHT)
        except (LoanFactoryError, OSError):
            return  # no font package, or an unwritable cache: the rendering makes the cut and reports it

    def path(self, layout_text: str) -> Path:
        self.start(layout_text).join()
        path = self.paths.get(layout_text)
        if path is None:  # the background cut failed (a broken font file): make it here, raising its error
            path = self.paths[layout_text] = kept_cut(common_characters(layout_text), REGULAR_WEIGHT)
        return path


_warming = _Warming()


def warm_up(layout_text: str) -> None:
    """Start making the common cut for ``layout_text`` in the background (nothing to do once it is kept)."""
    _warming.start(layout_text)


@dataclass(frozen=True)
class DocumentFonts:
    """The font files of one document: the common regular cut, the bold cut, and an extra regular cut
    for the characters outside the common one (``None`` when there are none)."""

    regular: Path
    bold: Path
    extra: Path | None


@contextmanager
def document_fonts(text: str, bold_text: str, layout_text: str) -> Iterator[DocumentFonts]:
    """The fonts for a document whose regular text is ``text`` (the layout adding ``layout_text``) and
    whose bold text is ``bold_text``.

    The extra cut, when one is needed, lives in a temporary directory removed when the ``with`` block
    ends; fpdf2 reads the files when the fonts are added, so the PDF must be output inside.

    Raises:
        MissingGlyphError: the text uses characters the font lacks.
        FontUnavailableError: the font package is not installed.
    """
    missing = missing_characters(text + bold_text + layout_text)
    if missing:
        raise MissingGlyphError(f"contract text: the font has no glyph for {missing!r}", field="contract",
                                value=missing)
    regular = _warming.path(layout_text)
    bold = kept_cut(frozenset(bold_text), BOLD_WEIGHT)
    outside = frozenset(text) - common_characters(layout_text) - ASCII - frozenset(" \n\t")
    if not outside:
        yield DocumentFonts(regular=regular, bold=bold, extra=None)
        return
    with tempfile.TemporaryDirectory(prefix="lf-esign-fonts-") as directory:
        extra = Path(directory) / "NotoSansSC-extra.ttf"
        extra.write_bytes(_cut(outside, REGULAR_WEIGHT))
        yield DocumentFonts(regular=regular, bold=bold, extra=extra)
