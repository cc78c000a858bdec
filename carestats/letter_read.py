"""A reply letter as the clerk left it (.docx, .txt, .md), and every figure written in it.

``read_letter`` gives the letter's paragraphs (a .docx's body and tables in order, tracked deletions left
out; a text file's lines, in UTF-8 or the GBK of Windows Notepad). ``find_figures`` finds each figure *with
its unit word* — 5580人, 168.872万元, 97.78%, 2000余份, 15余万元, 约1.2万人次 — so that narrative numbers
(2024年, 60周岁, 第57号, 2024—2026年, 六个一) are never taken for figures. Full-width and half-width
characters are read alike (NFKC), but every figure keeps the text exactly as written for the messages.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from carestats.errors import CarestatsError, UsageError

LETTER_FORMATS = (".docx", ".txt", ".md")

# Unit words after a figure, longest first (人次 before 人, 场次 before 场 before 次 …).
UNIT_WORDS = (
    "个百分点",
    "人次",
    "场次",
    "元",
    "%",
    "人",
    "名",
    "位",
    "次",
    "场",
    "期",
    "所",
    "个",
    "张",
    "份",
    "家",
    "户",
    "项",
    "处",
    "座",
    "套",
    "间",
    "件",
)

# What a written unit word can state: an indicator's 计量单位 must be in the same group.
UNIT_GROUPS = {
    "人": "people",
    "名": "people",
    "位": "people",
    "人次": "person-times",
    "次": "times",
    "场次": "times",
    "场": "times",
    "期": "times",
    "元": "money",
    "%": "rate",
    **{u: "things" for u in ("所", "个", "张", "份", "家", "户", "项", "处", "座", "套", "间", "件")},
}

MULTIPLIERS = {"万": 4, "亿": 8}

# Qualifiers of an approximate figure: before the digits, after them (余/多) or after the unit.
PRE_QUALIFIERS = ("大约", "约", "近", "超过", "逾", "不足", "不到")
POST_QUALIFIERS = ("以上", "左右", "余")
QUALIFIER_KIND = {
    "余": "floor",  # N余: N ≤ data < N + 10^z
    "多": "floor",
    "约": "round",  # 约N / N左右: data rounds to N at N's precision
    "大约": "round",
    "左右": "round",
    "以上": "at-least",
    "超过": "above",
    "逾": "above",
    "近": "near",  # 近N: N − 10^z ≤ data ≤ N
    "不足": "below",
    "不到": "below",
}

_IGNORED = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)

# A written number, after ``normalise``. Thousands may be grouped by commas (25,405) or by one space of any
# kind (5 680 with a thin, narrow no-break, no-break, full-width or ordinary space: all a plain space after
# ``normalise``), only in whole groups of three digits after a lead of one to three: “2024 680人” (a year,
# then a figure) and “1 2 3” (a list) are not one number. Nor is a lead right after a number and a space or
# a comma (“1 2 680人”, “12,345 678”): such a run is no thousands grouping.
_NUMBER = (
    r"\d{1,3}(?:,\d{3})+(?![\d,])(?:\.\d+)?"
    r"|(?<!\d )(?<!\d[,.])[1-9]\d{0,2}(?: \d{3})+(?!\d|,\d)(?:\.\d+)?"
    r"|\d+(?:\.\d+)?"
)
NUMBER = re.compile(_NUMBER)
_SEPARATORS = str.maketrans("", "", ", ")


def number_digits(written: str) -> str:
    """A number as ``NUMBER`` matched it, without its thousands separators: “5 680” → “5680”."""
    return written.translate(_SEPARATORS)


def unit_group(word: str) -> str:
    """What a unit word states (people, money …); a word of a profile's own (亩, 辆) is its own group."""
    return UNIT_GROUPS.get(word, word)


@lru_cache(maxsize=8)
def _figure_pattern(extra: frozenset[str]) -> re.Pattern[str]:
    units = sorted(set(UNIT_WORDS) | {u for u in extra if u and "万" not in u}, key=lambda u: (-len(u), u))
    # A space may stand between the parts (“5680 人”, “约 1.2 万人”): every white space the clerk may type
    # (an ordinary, no-break or ideographic space) is a plain space after ``normalise``.
    return re.compile(
        r"(?<![0-9A-Za-z./_\-#])"
        r"(?:(?P<pre>" + "|".join(PRE_QUALIFIERS) + r") *)?"
        r"(?P<num>" + _NUMBER + ")"
        r" *(?P<q1>余|多)?"
        r" *(?P<mult>[万亿])?"
        r" *(?P<q2>余|多)?"
        r" *(?P<unit>" + "|".join(re.escape(u) for u in units) + r")"
        r"(?P<post>" + "|".join(POST_QUALIFIERS) + r")?"
    )


class LetterReadError(CarestatsError):
    """The letter file cannot be read (exit 1: the input is refused, with what to do)."""


@dataclass(frozen=True)
class Paragraph:
    """One paragraph (a .docx paragraph or table cell paragraph; a line of a text file)."""

    text: str
    place: str  # for a message: “第 12 段” (.docx) or “第 12 行” (text)


@dataclass(frozen=True)
class LetterText:
    path: Path
    paragraphs: tuple[Paragraph, ...]
    properties: str = ""  # a .docx's title/comments (carestats report writes the 文号 there)

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.paragraphs)


@dataclass(frozen=True)
class WrittenFigure:
    """A figure as the letter writes it, read exactly.

    ``number`` is the number written (15 in “15余万元”), ``scale`` the power of ten of 万/亿 (4 for 万),
    ``unit`` the unit word (元, 人, %); ``qualifier`` 余/约/以上 … or None for an exact figure.
    """

    text: str  # exactly as written, e.g. “2000余份”, “１６８.８７２万元”
    paragraph: int  # index into LetterText.paragraphs
    start: int  # offsets of ``text`` in that paragraph
    end: int
    num_start: int  # offset of the first digit (after 约/近 …)
    number: Decimal
    digits: str  # the number's digits as normalised (“2000”, “168.872”), for its precision
    scale: int
    unit: str
    qualifier: str | None

    @property
    def group(self) -> str:
        return unit_group(self.unit)

    @property
    def value(self) -> Decimal:
        """The figure in the catalogue's unit: 168.872万元 → 1688720 元, 1.2万人 → 12000 人."""
        return self.number.scaleb(self.scale)

    @property
    def step(self) -> Decimal:
        """The written precision (10^z): 2000 → 1000, 46 → 1, 1.5 → 0.1, in the written scale."""
        return precision(self.digits)

    @property
    def kind(self) -> str:
        if not self.qualifier:
            return "exact"
        return QUALIFIER_KIND.get(self.qualifier, "mixed")


def precision(digits: str) -> Decimal:
    """The place of the last significant digit written: '2000' → 1000, '46' → 1, '1.50' → 0.01, '0' → 1."""
    if "." in digits:
        return Decimal(1).scaleb(-len(digits.split(".", 1)[1]))
    stripped = digits.rstrip("0")
    if not stripped:
        return Decimal(1)
    return Decimal(1).scaleb(len(digits) - len(stripped))


# ---------------------------------------------------------------------------------------------- reading
def read_letter(path: str | Path) -> LetterText:
    """The letter's paragraphs; an unreadable or unsupported file is refused with what to do."""
    p = Path(path)
    suffix = p.suffix.lower()
    if not p.is_file():
        raise UsageError(f"找不到答复函文件 {p}。")
    if suffix in (".doc", ".wps", ".wpt", ".rtf", ".pdf", ".odt"):
        raise LetterReadError(
            f"答复函 {p.name} 是 {suffix} 格式,无法逐字读取。请在 WPS 中“另存为”Word 文档(.docx)后再核对。"
        )
    if suffix not in LETTER_FORMATS:
        raise UsageError(
            f"不支持的答复函格式“{p.suffix or p.name}”。--letter 可为 {'、'.join(LETTER_FORMATS)}"
        )
    if suffix == ".docx":
        letter = _read_docx(p)
    else:
        letter = _read_text(p, markdown=suffix == ".md")
    if not any(par.text.strip() for par in letter.paragraphs):
        raise LetterReadError(f"答复函 {p.name} 中没有文字。请确认选对了文件。")
    return letter


def _read_text(path: Path, markdown: bool) -> LetterText:
    raw = path.read_bytes()
    text = None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16")
    else:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    if text is None:
        raise LetterReadError(f"答复函 {path.name} 的编码无法识别。请用记事本“另存为”UTF-8 编码后再核对。")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if markdown:
        lines = [_markdown_line(line) for line in lines]
    return LetterText(path, tuple(Paragraph(line, f"第 {n} 行") for n, line in enumerate(lines, start=1)))


_MD_TAG = re.compile(r"<[^>]+>")
_MD_LEAD = re.compile(r"^\s*(?:#{1,6}\s+|[-*+>]\s+|\d+\.\s+(?=\D))")


def _markdown_line(line: str) -> str:
    """Markdown markup off a line (headings, list marks, bold, HTML tags); the words and figures stay."""
    line = _MD_TAG.sub("", line)
    line = _MD_LEAD.sub("", line)
    return line.replace("**", "").replace("__", "")


def _read_docx(path: Path) -> LetterText:
    from zipfile import BadZipFile

    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    try:
        doc = Document(str(path))
    except (BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
        raise LetterReadError(
            f"答复函 {path.name} 不是有效的 Word 文档(.docx),可能已损坏或只是改了扩展名。"
            "请在 WPS 中打开后“另存为”.docx 再核对。"
        ) from exc
    except PermissionError as exc:
        raise LetterReadError(f"无法读取 {path.name}:文件可能正在 WPS/Word 中打开,请关闭后重试。") from exc
    paragraphs: list[Paragraph] = []
    for text in _body_texts(doc.element.body):
        if text.strip():
            paragraphs.append(Paragraph(text, f"第 {len(paragraphs) + 1} 段"))
    cp = doc.core_properties
    props = "\n".join(t for t in (cp.title, cp.comments, cp.subject) if t)
    return LetterText(path, tuple(paragraphs), props)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_RUN_TEXT = (
    "./descendant::w:r[not(ancestor::w:del) and not(ancestor::w:moveFrom)]"
    "/*[self::w:t or self::w:tab or self::w:br or self::w:cr or self::w:noBreakHyphen]"
)


def _body_texts(body) -> list[str]:
    """Paragraph texts of the body in reading order; table cells paragraph by paragraph.

    Runs are read from the XML so that text inserted with track changes (w:ins) counts and deleted text
    (w:del, w:moveFrom) does not; field codes (w:instrText) are not text.
    """
    out: list[str] = []
    for child in body.iterchildren():
        if child.tag == _W + "p":
            out.append(_paragraph_text(child))
        elif child.tag == _W + "tbl":
            for p in child.iter(_W + "p"):
                out.append(_paragraph_text(p))
        elif child.tag == _W + "sdt":  # a content control around paragraphs
            content = child.find(_W + "sdtContent")
            if content is not None:
                out.extend(_body_texts(content))
    return out


def _paragraph_text(p) -> str:
    parts = []
    for el in p.xpath(_RUN_TEXT):
        tag = el.tag[len(_W) :]
        if tag == "t":
            parts.append(el.text or "")
        elif tag == "tab":
            parts.append("\t")
        elif tag == "noBreakHyphen":
            parts.append("-")
        else:
            parts.append("\n")
    return "".join(parts)


# --------------------------------------------------------------------------------------------- figures
def normalise(text: str) -> tuple[str, list[int]]:
    """NFKC character by character (full-width digits, ％ and punctuation become half-width), with
    zero-width characters dropped; returns the text and, for each of its characters, the index of the
    character it came from, so that a match can be shown exactly as written."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        n = unicodedata.normalize("NFKC", ch.translate(_IGNORED)).replace("\u3000", " ")
        out.append(n)
        origin.extend([i] * len(n))
    return "".join(out), origin


def find_figures(letter: LetterText, units: Iterable[str] = ()) -> list[WrittenFigure]:
    """Every figure with a unit word, in reading order. ``units``: the profile's own unit words (its
    indicators' 计量单位), found besides ``UNIT_WORDS``."""
    found: list[WrittenFigure] = []
    for index, par in enumerate(letter.paragraphs):
        found.extend(figures_in(par.text, index, units))
    return found


def figures_in(text: str, paragraph: int = 0, units: Iterable[str] = ()) -> list[WrittenFigure]:
    """The figures of one paragraph (see ``find_figures``)."""
    norm, origin = normalise(text)
    out: list[WrittenFigure] = []
    for m in _figure_pattern(frozenset(units)).finditer(norm):
        if norm[: m.start()].rstrip(" ").endswith("第"):
            continue  # an ordinal: 第3次会议, 第 3 次会议
        q1, q2, post, pre = m["q1"], m["q2"], m["post"], m["pre"]
        qualifiers = [q for q in (pre, q1, q2, post) if q]
        if len(qualifiers) > 1 and not (set(qualifiers) <= {"余", "多"}):
            qualifier = "+".join(qualifiers)  # 约1200余: two markers, read as written, tied to nothing
        else:
            qualifier = qualifiers[0] if qualifiers else None
        digits = number_digits(m["num"])
        start, end = origin[m.start()], origin[m.end() - 1] + 1
        num_start = origin[m.start("num")]
        out.append(
            WrittenFigure(
                text=text[start:end],
                paragraph=paragraph,
                start=start,
                end=end,
                num_start=num_start,
                number=Decimal(digits),
                digits=digits,
                scale=MULTIPLIERS.get(m["mult"] or "", 0),
                unit=m["unit"],
                qualifier=qualifier,
            )
        )
    return out
