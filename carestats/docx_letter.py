"""The letter as a Word document laid out to GB/T 9704-2012 《党政机关公文格式》.

Values (see ../shared/notes/reply-letter-format.md): A4; margins top 37 mm, bottom 35 mm, left 28 mm,
right 26 mm; a line grid of 579 twips (22 lines a page) with every paragraph at exactly 579 twips and widow
control off; body 3号 (16 pt) 仿宋_GB2312 at −0.25 pt character spacing (28 characters a line); title 2号
(22 pt) 方正小标宋简体, centred, in balanced lines; headings 一、 黑体 and （一） 楷体_GB2312; page numbers
“— 1 —” in 4号宋体, odd pages right and even pages left, one character in.

The East Asian font is written on every run (``w:rFonts w:eastAsia`` with ``w:hint="eastAsia"``):
python-docx's ``font.name`` sets only the Latin slots, which leaves Chinese text in the default font.
The fonts are named as the clerks' WPS/Word have them; another machine substitutes its own.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Twips
from docx.text.paragraph import Paragraph

from carestats import __version__
from carestats.letter import Block, Letter
from carestats.letter_text import signature_indents, title_lines

# Page and grid (twips: 1/20 pt, 1/1440 inch).
PAGE_W, PAGE_H = 11906, 16838
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = 2098, 1984, 1587, 1474
TEXT_W = PAGE_W - MARGIN_LEFT - MARGIN_RIGHT  # the 版心's width: 8845 twips, 156 mm
LINE_PITCH = 579  # 225 mm / 22 lines
FOOTER_DISTANCE = Mm(25)  # the page number sits about 7 mm below the 版心
HEADER_DISTANCE = Mm(15)

# Fonts and sizes (half-points in OOXML; Pt here).
FANGSONG = "仿宋_GB2312"
XIAOBIAOSONG = "方正小标宋简体"
HEITI = "黑体"
KAITI = "楷体_GB2312"
SONGTI = "宋体"
BODY_PT = 16  # 3号
TITLE_PT = 22  # 2号
SMALL_PT = 14  # 4号: page numbers, 抄送
BODY_SPACING = -5  # w:spacing in twips: −0.25 pt, so that 28 characters fill a 156 mm line
CHAR = BODY_PT * 20  # one body character, in twips (for indents)

# docProps/app.xml: the application that wrote the file (python-docx's template says “Microsoft Macintosh Word”).
_APP_XML = (
    "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    f"<Application>carestats {__version__}</Application><DocSecurity>0</DocSecurity>"
    "<ScaleCrop>false</ScaleCrop><LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
    "<HyperlinksChanged>false</HyperlinksChanged></Properties>"
)

# Child order inside w:pPr and w:rPr (ECMA-376); elements must be inserted in this order.
_PPR_SEQ = (
    "w:pStyle w:keepNext w:keepLines w:pageBreakBefore w:framePr w:widowControl w:numPr "
    "w:suppressLineNumbers w:pBdr w:shd w:tabs w:suppressAutoHyphens w:kinsoku w:wordWrap w:overflowPunct "
    "w:topLinePunct w:autoSpaceDE w:autoSpaceDN w:bidi w:adjustRightInd w:snapToGrid w:spacing w:ind "
    "w:contextualSpacing w:mirrorIndents w:suppressOverlap w:jc w:textDirection w:textAlignment "
    "w:textboxTightWrap w:outlineLvl w:divId w:cnfStyle w:rPr w:sectPr w:pPrChange"
).split()
_RPR_SEQ = (
    "w:rStyle w:rFonts w:b w:bCs w:i w:iCs w:caps w:smallCaps w:strike w:dstrike w:outline w:shadow "
    "w:emboss w:imprint w:noProof w:snapToGrid w:vanish w:webHidden w:color w:spacing w:w w:kern "
    "w:position w:sz w:szCs w:highlight w:u w:effect w:bdr w:shd w:fitText w:vertAlign w:rtl w:cs w:em "
    "w:lang w:eastAsianLayout w:specVanish w:oMath"
).split()


def _set_child(parent, seq: list[str], tag: str, **attrs: str):
    """Get or create ``tag`` under ``parent`` at its schema position and set its w: attributes."""
    el = parent.find(qn(tag))
    if el is None:
        el = OxmlElement(tag)
        later = {qn(t) for t in seq[seq.index(tag) + 1 :]}
        for i, child in enumerate(parent):
            if child.tag in later:
                parent.insert(i, el)
                break
        else:
            parent.append(el)
    for k, v in attrs.items():
        el.set(qn(f"w:{k}"), v)
    return el


def _rpr(owner):
    """The w:rPr of a run, a style or w:rPrDefault, created when missing."""
    if hasattr(owner, "get_or_add_rPr"):
        return owner.get_or_add_rPr()
    rpr = owner.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        owner.append(rpr)
    return rpr


def set_run_font(
    run_or_rpr_owner, font: str, size_pt: float, *, spacing: int | None = None, bold: bool = False
):
    """Font in all four slots (ascii, hAnsi, eastAsia, cs), the eastAsia hint, size, and character spacing."""
    rpr = _rpr(run_or_rpr_owner)
    for theme in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is not None and fonts.get(qn(f"w:{theme}")) is not None:
            del fonts.attrib[qn(f"w:{theme}")]
    _set_child(rpr, _RPR_SEQ, "w:rFonts", ascii=font, hAnsi=font, eastAsia=font, cs=font, hint="eastAsia")
    _set_child(rpr, _RPR_SEQ, "w:b", val="1" if bold else "0")
    if spacing is not None:
        _set_child(rpr, _RPR_SEQ, "w:spacing", val=str(spacing))
    half_points = str(round(size_pt * 2))
    _set_child(rpr, _RPR_SEQ, "w:sz", val=half_points)
    _set_child(rpr, _RPR_SEQ, "w:szCs", val=half_points)
    _set_child(rpr, _RPR_SEQ, "w:lang", val="en-US", eastAsia="zh-CN")
    return rpr


def _exact_lines(paragraph: Paragraph, twips: int = LINE_PITCH) -> None:
    pf = paragraph.paragraph_format
    pf.line_spacing = Twips(twips)
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.space_before = Twips(0)
    pf.space_after = Twips(0)
    pf.widow_control = False


class _Writer:
    def __init__(self, letter: Letter):
        self.letter = letter
        self.doc = Document()
        self._last_body: Paragraph | None = None
        self._tail_started = False
        self._setup()

    # ------------------------------------------------------------------ document set-up
    def _setup(self) -> None:
        doc = self.doc
        sec = doc.sections[0]
        sec.page_width, sec.page_height = Twips(PAGE_W), Twips(PAGE_H)
        sec.top_margin, sec.bottom_margin = Twips(MARGIN_TOP), Twips(MARGIN_BOTTOM)
        sec.left_margin, sec.right_margin = Twips(MARGIN_LEFT), Twips(MARGIN_RIGHT)
        sec.header_distance, sec.footer_distance = HEADER_DISTANCE, FOOTER_DISTANCE
        grid = sec._sectPr.find(qn("w:docGrid"))
        if grid is None:
            grid = OxmlElement("w:docGrid")
            sec._sectPr.append(grid)
        grid.attrib.clear()
        grid.set(qn("w:type"), "lines")
        grid.set(qn("w:linePitch"), str(LINE_PITCH))
        doc.settings.odd_and_even_pages_header_footer = True
        # Defaults for anything python-docx adds later (and what WPS shows as 正文): 仿宋_GB2312 3号.
        defaults = doc.styles.element.find(qn("w:docDefaults"))
        rpr_default = defaults.find(qn("w:rPrDefault"))
        set_run_font(rpr_default, FANGSONG, BODY_PT)
        normal = doc.styles["Normal"]
        set_run_font(normal.element, FANGSONG, BODY_PT)
        npf = normal.paragraph_format
        npf.line_spacing, npf.line_spacing_rule = Twips(LINE_PITCH), WD_LINE_SPACING.EXACTLY
        npf.space_before = npf.space_after = Twips(0)
        npf.widow_control = False
        ppr = normal.element.get_or_add_pPr()
        _set_child(ppr, _PPR_SEQ, "w:kinsoku", val="1")
        # No extra space between Chinese and digits (“83号”, “2025年”): keeps 28 characters a line.
        _set_child(ppr, _PPR_SEQ, "w:autoSpaceDE", val="0")
        _set_child(ppr, _PPR_SEQ, "w:autoSpaceDN", val="0")
        _set_child(ppr, _PPR_SEQ, "w:jc", val="both")
        self._footers()
        if self.letter.draft:
            self._draft_headers()
        self._properties()

    def _page_number(self, paragraph: Paragraph) -> None:
        """“— 1 —”: an em dash, a PAGE field, an em dash, in 4号宋体."""

        def run(text: str | None = None, fld: str | None = None, instr: str | None = None):
            r = paragraph.add_run()
            set_run_font(r._r, SONGTI, SMALL_PT)
            if text is not None:
                r.text = text
            if fld:
                el = OxmlElement("w:fldChar")
                el.set(qn("w:fldCharType"), fld)
                r._r.append(el)
            if instr:
                el = OxmlElement("w:instrText")
                el.set(qn("xml:space"), "preserve")
                el.text = instr
                r._r.append(el)

        run("— ")
        run(fld="begin")
        run(instr=" PAGE ")
        run(fld="separate")
        run("1")
        run(fld="end")
        run(" —")

    def _footers(self) -> None:
        sec = self.doc.sections[0]
        for footer, align, side in (
            (sec.footer, WD_ALIGN_PARAGRAPH.RIGHT, "right"),
            (sec.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, "left"),
        ):
            footer.is_linked_to_previous = False
            p = footer.paragraphs[0]
            p.alignment = align
            pf = p.paragraph_format
            pf.space_before = pf.space_after = Twips(0)
            pf.first_line_indent = Twips(0)
            if side == "right":
                pf.right_indent = Twips(SMALL_PT * 20)  # one character in
            else:
                pf.left_indent = Twips(SMALL_PT * 20)
            self._page_number(p)

    def _draft_headers(self) -> None:
        sec = self.doc.sections[0]
        for header in (sec.header, sec.even_page_header):
            header.is_linked_to_previous = False
            p = header.paragraphs[0]
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            r = p.add_run(self.letter.first("draft").text)
            set_run_font(r._r, HEITI, SMALL_PT)
            _set_child(r._r.get_or_add_rPr(), _RPR_SEQ, "w:color", val="C00000")

    def _properties(self) -> None:
        """Document properties from the letter; python-docx's template defaults (a 2013 date, “Microsoft
        Macintosh Word”, Japanese as the East Asian language, a thumbnail of another document) replaced."""
        letter, cp = self.letter, self.doc.core_properties
        title = letter.first("title")
        cp.title = title.text if title else "答复函"
        cp.identifier = letter.spec.doc_number
        cp.subject = letter.spec.proposal.title
        cp.author = cp.last_modified_by = letter.spec.sender
        cp.created = cp.modified = dt.datetime.now(dt.UTC).replace(microsecond=0)
        cp.revision = 1
        cp.category = f"办理结果类别 {letter.spec.result_class}"
        cp.keywords = "答复函"
        info = [b.text for b in letter.blocks if b.kind == "info"]
        cp.comments = "；".join(info)
        if letter.draft:
            cp.keywords = "答复函；草稿（未通过审核）"
        settings = self.doc.settings.element
        lang = settings.find(qn("w:themeFontLang"))
        if lang is not None:
            lang.set(qn("w:eastAsia"), "zh-CN")
        for el in settings.findall(qn("w:savePreviewPicture")):
            settings.remove(el)
        package = self.doc.part.package
        for rel in list(package.rels.values()):
            if rel.reltype == RT.THUMBNAIL:
                package.rels.pop(rel.rId)
            elif rel.reltype == RT.EXTENDED_PROPERTIES:
                rel.target_part._blob = _APP_XML.encode("utf-8")

    # ------------------------------------------------------------------ paragraphs
    def para(
        self,
        *,
        align: WD_ALIGN_PARAGRAPH | None = None,
        first_line_chars: int = 0,
        left: int = 0,
        right: int = 0,
        outline: int | None = None,
    ) -> Paragraph:
        p = self.doc.add_paragraph()
        _exact_lines(p)
        if align is not None:
            p.alignment = align
        ppr = p._p.get_or_add_pPr()
        _set_child(ppr, _PPR_SEQ, "w:autoSpaceDE", val="0")
        _set_child(ppr, _PPR_SEQ, "w:autoSpaceDN", val="0")
        ind = {"firstLine": str(first_line_chars * CHAR), "left": str(left), "right": str(right)}
        if first_line_chars:
            ind["firstLineChars"] = str(first_line_chars * 100)
        _set_child(ppr, _PPR_SEQ, "w:ind", **ind)
        if outline is not None:
            _set_child(ppr, _PPR_SEQ, "w:outlineLvl", val=str(outline))
        return p

    def run(
        self,
        p: Paragraph,
        text: str,
        font: str = FANGSONG,
        size: float = BODY_PT,
        spacing: int | None = BODY_SPACING,
    ):
        r = p.add_run(text)
        set_run_font(r._r, font, size, spacing=spacing)
        return r

    def blank(self) -> Paragraph:
        p = self.para()
        self.run(p, "")
        return p

    # ------------------------------------------------------------------ the letter
    def write(self) -> Document:
        handlers = {
            "class": lambda b: self.run(self.para(align=WD_ALIGN_PARAGRAPH.RIGHT), b.text, HEITI),
            "disclosure": lambda b: self.run(self.para(), b.text),
            "doc_number": lambda b: self._doc_number(b, self.letter.first("signer")),
            "signer": self._signer,
            "title": self._title,
            "salutation": lambda b: self.run(self.para(), b.text),
            "h1": self._heading,
            "h2": self._heading,
            "h3": self._heading,
            "h4": self._heading,
            "body": self._heading,
            "sender": self._signature,
            "date": self._signature,
            "note": lambda b: self.run(self.para(first_line_chars=2), b.text),
            "cc": self._cc,
        }
        for block in self.letter.blocks:
            handler = handlers.get(block.kind)
            if handler is not None:  # draft and info are in the header and the properties
                handler(block)
        return self.doc

    def _title(self, b: Block) -> None:
        """2号小标宋, centred, in balanced lines (one paragraph, a line break between lines).

        Two blank lines above it (GB/T 9704-2012 7.3.1: 红色分隔线下空二行; 10.1 信函格式: 标题与其上最后一个
        要素相距二行), one below it before the 主送 (7.3.2: 标题下空一行)."""
        self.blank()
        self.blank()
        p = self.para(align=WD_ALIGN_PARAGRAPH.CENTER)
        # a 22 pt line would take two grid lines; it keeps the exact 579 pitch instead
        _set_child(p._p.get_or_add_pPr(), _PPR_SEQ, "w:snapToGrid", val="0")
        for n, line in enumerate(title_lines(b.text)):
            r = self.run(p, line, XIAOBIAOSONG, TITLE_PT, spacing=None)
            if n:
                r._r.insert(r._r.index(r._r.find(qn("w:t"))), OxmlElement("w:br"))
        self.blank()

    def _heading(self, b: Block) -> None:
        """Body paragraphs and headings, indented two characters; （一） runs on in 仿宋 after its 楷体 head."""
        outline = {"h1": 0, "h2": 1, "h3": 2, "h4": 3}.get(b.kind)
        p = self.para(first_line_chars=2, outline=outline)
        if b.kind == "h1" or (outline is not None and not b.text):
            # a heading that stands alone is kept whole and on the page of its first text line, never left
            # as the last line of a page; a （一） heading that runs on into its paragraph carries its own text
            p.paragraph_format.keep_with_next = True
            p.paragraph_format.keep_together = True
        if b.kind == "h1":
            self.run(p, b.text, HEITI)
        elif b.head:
            self.run(p, b.head, KAITI if b.kind == "h2" else FANGSONG)
            if b.text:
                self.run(p, b.text)
        else:
            self.run(p, b.text)
        self._last_body = p

    def _signer(self, b: Block) -> None:
        if self.letter.first("doc_number") is None:  # otherwise printed on the 文号 line
            self._doc_number(None, b)

    def _doc_number(self, number: Block | None, signer: Block | None) -> None:
        if signer is None:
            self.run(self.para(align=WD_ALIGN_PARAGRAPH.RIGHT), number.text)
            return
        # 文号 one character in on the left, 签发人 one character in on the right (label 仿宋, name 楷体).
        # A tab stop's position counts from the page margin, not from the paragraph's indent (OOXML
        # w:tab/@w:pos, as Word and LibreOffice read it), so the right tab sits one character short of the
        # 版心's right edge.
        p = self.para(left=CHAR)
        tabs = p.paragraph_format.tab_stops
        tabs.add_tab_stop(Twips(TEXT_W - CHAR), WD_TAB_ALIGNMENT.RIGHT)
        if number is not None:
            self.run(p, number.text)
        self.run(p, "\t签发人：")
        self.run(p, signer.text, KAITI)

    def _signature(self, b: Block) -> None:
        """GB/T 9704 7.3.5.2: 署名右空二字; 日期首字比署名首字右移二字 (日期较长时日期右空二字, 署名随之右移)."""
        if not self._tail_started:  # one blank line, and the signature kept on the last body line's page
            self._tail_started = True
            if self._last_body is not None:
                self._last_body.paragraph_format.keep_with_next = True
            self.blank().paragraph_format.keep_with_next = True
        sender_block, date_block = self.letter.first("sender"), self.letter.first("date")
        s_right, d_right = signature_indents(
            sender_block.text if sender_block else "", date_block.text if date_block else ""
        )
        right = s_right if b.kind == "sender" else d_right
        p = self.para(align=WD_ALIGN_PARAGRAPH.RIGHT, right=round(right * CHAR))
        if b.kind == "sender":
            p.paragraph_format.keep_with_next = True
        self.run(p, b.text)

    def _cc(self, b: Block) -> None:
        """版记: 抄送 in 4号仿宋 between two rules the width of the 版心, at the foot of the last page.

        GB/T 9704-2012 7.4.1: the 版记 sits at the bottom of the last page, its lower rule on the 版心's
        bottom edge. The 抄送 paragraph is a frame (``w:framePr``) anchored to the bottom of the margin box,
        so it stays there whatever the length of the letter above, and it carries both rules as its top and
        bottom borders. One paragraph, indented zero so that the borders span the 版心 (borders run from
        indent to indent; LibreOffice also drops a frame made of paragraphs with different borders); the
        text is one character in through its first-line indent.
        """
        p = self.para(first_line_chars=0)
        p.paragraph_format.first_line_indent = Twips(SMALL_PT * 20)  # one 4号 character in
        _frame(p)
        _border(p, "top")
        _border(p, "bottom")
        self.run(p, "抄送：" + b.text, FANGSONG, SMALL_PT, spacing=None)


def _frame(paragraph: Paragraph) -> None:
    """The 版记's frame: the 版心's width, at the bottom of the margin box, no text beside it."""
    _set_child(
        paragraph._p.get_or_add_pPr(),
        _PPR_SEQ,
        "w:framePr",
        w=str(TEXT_W),
        hSpace="0",
        vSpace="0",
        wrap="notBeside",
        hAnchor="margin",
        vAnchor="margin",
        xAlign="center",
        yAlign="bottom",
        hRule="auto",
    )


def _border(paragraph: Paragraph, side: str) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    bdr = _set_child(ppr, _PPR_SEQ, "w:pBdr")
    el = OxmlElement(f"w:{side}")
    for k, v in (("val", "single"), ("sz", "8"), ("space", "1"), ("color", "000000")):
        el.set(qn(f"w:{k}"), v)
    bdr.append(el)


def write_docx(letter: Letter, path: str | Path) -> Path:
    """Write ``letter`` as a GB/T 9704 .docx at ``path``."""
    path = Path(path)
    _Writer(letter).write().save(str(path))
    return path
