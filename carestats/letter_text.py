"""The letter as text: plain text (.txt), Markdown (.md) and printable HTML (.html).

All three lay out the same ``Letter`` blocks; the .docx writer is ``docx_letter``. The plain text keeps one
line a block, in the order of the published letter, so that it can be compared line by line with the seed.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable

from carestats.letter import Block, Letter

# ----------------------------------------------------------------------------------------- title lines
TITLE_MAX_CHARS = 20  # a 2号 title line holds about 20 characters in a 156 mm 版心
# Where a title may break without splitting a word: after these …
_BREAK_AFTER = ("关于", "委员会", "会议", "提案", "建议", "意见", "的")
# … or before these.
_BREAK_BEFORE = ("关于", "第", "的答复", "答复")
_OPENERS = "“‘《（〔【(["
_CLOSERS = "”’》）〕】)]，。、；：！？,.;:!?"
_BAD_BREAK = 8.0  # cost of a break that is not at a word boundary, in characters of imbalance
# A number word is never split across title lines (GB/T 9704 7.3.3 词意完整): 十四届, 第四次, 第57号, 2025年.
# Chinese numerals count only before a measure word, so that 一老一小 or 统一 are not taken for numbers.
_MEASURE = "届次号年月日期批项条个件名"
_NUMBER_WORD = re.compile(
    rf"第?(?:[0-9]+(?:\.[0-9]+)?[{_MEASURE}%]?|[〇零一二三四五六七八九十百千]+[{_MEASURE}])"
)


def text_width(text: str) -> float:
    """Width in CJK characters: half-width letters and digits count a half."""
    return sum(0.5 if ord(c) < 0x2E80 and c not in "—" else 1.0 for c in text)


def _break_allowed(text: str, i: int, numbers: list[tuple[int, int]]) -> bool:
    """May a line end before ``text[i]``? ``numbers``: the spans of the number words in ``text``."""
    left, right = text[i - 1], text[i]
    if left.isascii() and left.isalnum() and right.isascii() and right.isalnum():
        return False  # never split a number or a Latin word
    if any(a < i < b for a, b in numbers):
        return False  # nor a number word: 十四届, 第57号
    return left not in _OPENERS and right not in _CLOSERS


def _break_cost(text: str, i: int) -> float:
    before, after = text[:i], text[i:]
    if any(before.endswith(t) for t in _BREAK_AFTER) or any(after.startswith(t) for t in _BREAK_BEFORE):
        return 0.0
    if _NUMBER_WORD.match(after):  # before 十四届 as before 第十四届
        return 0.0
    return _BAD_BREAK


def title_lines(title: str, max_chars: int = TITLE_MAX_CHARS) -> list[str]:
    """Split a title into balanced lines (GB/T 9704 7.3.3: 词意完整，排列对称，长短适宜).

    The fewest lines of at most ``max_chars`` each; among the ways to cut, the one whose lines are most
    even, preferring cuts at word boundaries (after 关于/会议/提案, before 第 …), never inside a number.
    """
    title = title.strip()
    total = text_width(title)
    if total <= max_chars:
        return [title]
    n = math.ceil(total / max_chars)
    target = total / n
    numbers = [m.span() for m in _NUMBER_WORD.finditer(title)]
    cuts = [i for i in range(1, len(title)) if _break_allowed(title, i, numbers)]
    best: tuple[float, list[int]] | None = None

    def search(start: int, left: int, chosen: list[int], cost: float) -> None:
        nonlocal best
        if best is not None and cost >= best[0]:
            return
        if left == 1:
            w = text_width(title[start:])
            if w <= max_chars:
                total_cost = cost + abs(w - target)
                if best is None or total_cost < best[0]:
                    best = (total_cost, chosen)
            return
        for c in cuts:
            if c <= start:
                continue
            w = text_width(title[start:c])
            if w > max_chars:
                break
            search(c, left - 1, [*chosen, c], cost + abs(w - target) + _break_cost(title, c))

    search(0, n, [], 0.0)
    if best is None:  # no cut fits: fall back to plain width cuts
        return [title[i : i + max_chars] for i in range(0, len(title), max_chars)]
    edges = [0, *best[1], len(title)]
    return [title[a:b] for a, b in zip(edges, edges[1:], strict=False)]


# ------------------------------------------------------------------------------------------- plain text
def _doc_number_line(letter: Letter) -> str | None:
    num = letter.first("doc_number")
    signer = letter.first("signer")
    if num is None and signer is None:
        return None
    parts = [num.text if num else "", f"签发人：{signer.text}" if signer else ""]
    return "　　".join(p for p in parts if p)


def to_text(letter: Letter) -> str:
    """The letter as plain UTF-8 text: header lines, then one line a block, as in the published letter."""
    out: list[str] = []
    head: list[str] = []
    for b in letter.blocks:
        if b.kind == "draft":
            out.extend([b.text, ""])
        elif b.kind == "info":
            head.append(b.text)
    if head:
        out.extend([*head, ""])
    marks = [b.text for b in letter.blocks if b.kind in ("class", "disclosure")]
    number = _doc_number_line(letter)
    if number:
        marks.append(number)
    if marks:
        out.extend([*marks, ""])
    tail_started = False
    for b in letter.blocks:
        if b.kind in ("draft", "info", "class", "disclosure", "doc_number", "signer"):
            continue
        if b.kind in ("sender", "date", "note", "cc") and not tail_started:
            out.append("")
            tail_started = True
        if b.kind == "cc":
            out.append(f"抄送：{b.text}")
        else:
            out.append(b.full)
    return "\n".join(out).rstrip("\n") + "\n"


# ------------------------------------------------------------------------------------------- Markdown
def to_markdown(letter: Letter) -> str:
    """The letter as Markdown: metadata as a list, # title, ## 一、 headings, bold run-in （一） headings."""
    info = [b.text for b in letter.blocks if b.kind == "info"]
    number_line = _doc_number_line(letter)
    right = '<p align="right">{}</p>'
    render: dict[str, Callable[[Block], str | None]] = {
        "draft": lambda b: f"> **{b.text}**",
        "info": lambda b: "\n".join(f"- {t}" for t in info) if b.text == info[0] else None,
        "class": lambda b: f"**{b.text}**",
        "disclosure": lambda b: b.text,
        "doc_number": lambda b: number_line,
        "signer": lambda b: None if letter.first("doc_number") else number_line,
        "title": lambda b: "# " + b.text,
        "h1": lambda b: "## " + b.text,
        "h2": lambda b: f"**{b.head}**{b.text}",
        "cc": lambda b: f"抄送：{b.text}",
        "sender": lambda b: right.format(html.escape(b.text)),
        "date": lambda b: right.format(html.escape(b.text)),
    }
    out = [render.get(b.kind, lambda b: b.full)(b) for b in letter.blocks]
    return "\n\n".join(t for t in out if t) + "\n"


def signature_indents(sender: str, date: str) -> tuple[float, float]:
    """Right indents of 署名 and 成文日期, in characters (GB/T 9704 7.3.5.2, no seal).

    署名右空二字; 日期首字比署名首字右移二字; when the date is the longer, it keeps two characters to its
    right and the sender moves right with it. “绿春县民政局” over “2025年12月26日” → (5, 2).
    """
    ws, wd = text_width(sender), text_width(date)
    if not date:
        return 2.0, 0.0
    if not sender:
        return 0.0, 2.0
    sender_right, date_right = 2.0, ws - wd
    if date_right < 2:
        date_right = 2.0
        sender_right = date_right + wd + 2 - ws
    return sender_right, date_right


# ---------------------------------------------------------------------------------------------- HTML
FONTS = {
    "body": '"仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong", "STFangsong", serif',
    "title": '"方正小标宋简体", "FZXiaoBiaoSong-B05S", "方正小标宋_GBK", "华文中宋", "STZhongsong", serif',
    "h1": '"黑体", "SimHei", "STHeiti", sans-serif',
    "h2": '"楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi", "STKaiti", serif',
    "page": '"宋体", "SimSun", "STSong", serif',
}

CSS = f"""
@page {{ size: A4; margin: 37mm 26mm 35mm 28mm; }}
@page :right {{ @bottom-right {{ content: "— " counter(page) " —"; font: 14pt {FONTS["page"]}; margin-right: 14pt; }} }}
@page :left {{ @bottom-left {{ content: "— " counter(page) " —"; font: 14pt {FONTS["page"]}; margin-left: 14pt; }} }}
body {{ font-family: {FONTS["body"]}; font-size: 16pt; line-height: 28.95pt; letter-spacing: -0.25pt;
       max-width: 156mm; margin: 0 auto; color: #000; }}
p {{ margin: 0; text-align: justify; orphans: 1; widows: 1; }}
p.body, p.h1, p.h2, p.h3, p.h4, p.note {{ text-indent: 2em; }}
p.h1 {{ font-family: {FONTS["h1"]}; }}
span.h2 {{ font-family: {FONTS["h2"]}; }}
h1 {{ font-family: {FONTS["title"]}; font-size: 22pt; font-weight: normal; line-height: 28.95pt;
     text-align: center; margin: 28.95pt 0; letter-spacing: 0; white-space: nowrap; }}
.right {{ text-align: right; }}
.info {{ font-size: 12pt; line-height: 1.6; color: #333; text-align: left; letter-spacing: 0; }}
.info-end {{ border-bottom: 1px solid #999; margin-bottom: 28.95pt; }}
.draft {{ font-family: {FONTS["h1"]}; color: #c00; text-align: center; }}
.class {{ font-family: {FONTS["h1"]}; text-align: right; }}
.tail {{ margin-top: 28.95pt; }}
.sender, .date {{ text-align: right; }}
.cc {{ font-size: 14pt; margin-top: 28.95pt; padding: 0 1em; border-top: 1px solid #000; border-bottom: 1px solid #000; }}
"""


def to_html(letter: Letter) -> str:
    """A printable HTML page: A4, GB/T 9704 margins, the real fonts named first."""
    esc = html.escape
    title = letter.first("title")
    info = [b.text for b in letter.blocks if b.kind == "info"]
    sender, date = letter.first("sender"), letter.first("date")
    indents = dict(
        zip(
            ("sender", "date"),
            signature_indents(sender.text if sender else "", date.text if date else ""),
            strict=True,
        )
    )
    first_tail = (sender or date).kind if (sender or date) else None

    def tail(b: Block) -> str:
        top = " tail" if b.kind == first_tail else ""
        return f'<p class="{b.kind}{top}" style="padding-right: {indents[b.kind]:g}em">{esc(b.text)}</p>'

    render: dict[str, Callable[[Block], str | None]] = {
        "draft": lambda b: f'<p class="draft">{esc(b.text)}</p>',
        "info": lambda b: (
            '<div class="info">' + "<br>".join(map(esc, info)) + "</div>" if b.text == info[0] else None
        ),
        "class": lambda b: f'<p class="class">{esc(b.text)}</p>',
        "disclosure": lambda b: f'<p class="disclosure">{esc(b.text)}</p>',
        "doc_number": lambda b: f'<p class="right">{esc(_doc_number_line(letter) or b.text)}</p>',
        "signer": lambda b: (
            None if letter.first("doc_number") else f'<p class="right">{esc(_doc_number_line(letter))}</p>'
        ),
        "title": lambda b: "<h1>" + "<br>".join(esc(t) for t in title_lines(b.text)) + "</h1>",
        "salutation": lambda b: f"<p>{esc(b.text)}</p>",
        "h2": lambda b: f'<p class="h2"><span class="h2">{esc(b.head)}</span>{esc(b.text)}</p>',
        "sender": tail,
        "date": tail,
        "cc": lambda b: f'<p class="cc">抄送：{esc(b.text)}</p>',
    }
    body = [render.get(b.kind, lambda b: f'<p class="{b.kind}">{esc(b.full)}</p>')(b) for b in letter.blocks]
    head_title = esc(title.text) if title else "答复函"
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{head_title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(t for t in body if t)
        + "\n</body>\n</html>\n"
    )


WRITERS: dict[str, Callable[[Letter], str]] = {
    ".txt": to_text,
    ".md": to_markdown,
    ".html": to_html,
    ".htm": to_html,
}
