"""The .docx read back with python-docx: GB/T 9704 page, grid, fonts and sizes, odd/even page numbers.

One test converts it with LibreOffice (skipped with a reason where soffice is missing) and checks the PDF:
page numbers on every page and the three font families standing in for 仿宋, 黑体 and 楷体.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml.ns import qn

from carestats.docx_letter import write_docx
from carestats.figures import compute_figures
from carestats.letter import Letter, load_spec, parse_markup, render_letter
from tests.letter_data import SPEC_2025, figures_in, seed_letter_lines

FONTS_CONF = Path(__file__).resolve().parent / "fixtures" / "fontconfig" / "fonts.conf"


def _spec_with_extras(tmp_path: Path) -> Path:
    text = SPEC_2025.read_text(encoding="utf-8")
    text = text.replace('# signer = "某某"', 'signer = "李某某"')
    text = text.replace('# contact = "某某"', 'contact = "王某某"')
    text = text.replace('# phone = "0873-0000000"', 'phone = "0873-4221234"')
    text = text.replace(
        '# cc = ["县政协提案委员会", "县人民政府督查室"]', 'cc = ["县政协提案委员会", "县人民政府督查室"]'
    )
    path = tmp_path / "extras.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def figures(example_store, profile):
    return compute_figures(example_store, profile, 2025)


@pytest.fixture
def docx_path(figures, profile, tmp_path) -> Path:
    letter = render_letter(load_spec(SPEC_2025), figures, profile)
    return write_docx(letter, tmp_path / "答复函.docx")


def east_asia(run) -> str | None:
    fonts = run._r.rPr.find(qn("w:rFonts"))
    return None if fonts is None else fonts.get(qn("w:eastAsia"))


def rpr_val(run, tag: str) -> str | None:
    el = run._r.rPr.find(qn(tag))
    return None if el is None else el.get(qn("w:val"))


def para(doc, start: str):
    return next(p for p in doc.paragraphs if p.text.startswith(start))


def test_page_margins_and_grid(docx_path):
    doc = Document(str(docx_path))
    sec = doc.sections[0]
    assert (sec.page_width.twips, sec.page_height.twips) == (11906, 16838)  # A4
    assert (sec.top_margin.twips, sec.bottom_margin.twips) == (2098, 1984)  # 37 mm, 35 mm
    assert (sec.left_margin.twips, sec.right_margin.twips) == (1587, 1474)  # 28 mm, 26 mm
    grid = sec._sectPr.find(qn("w:docGrid"))
    assert (grid.get(qn("w:type")), grid.get(qn("w:linePitch"))) == ("lines", "579")
    assert doc.settings.odd_and_even_pages_header_footer is True


def test_every_paragraph_at_exact_pitch_and_every_run_with_an_east_asian_font(docx_path):
    doc = Document(str(docx_path))
    runs = 0
    for p in doc.paragraphs:
        pf = p.paragraph_format
        assert pf.line_spacing.twips == 579 and pf.line_spacing_rule == WD_LINE_SPACING.EXACTLY, p.text
        assert pf.widow_control is False
        assert (pf.space_before.twips, pf.space_after.twips) == (0, 0)
        for r in p.runs:
            runs += 1
            assert east_asia(r), (p.text, r.text)
            fonts = r._r.rPr.find(qn("w:rFonts"))
            assert fonts.get(qn("w:hint")) == "eastAsia"
            assert fonts.get(qn("w:ascii")) == east_asia(r)  # font.name alone would leave Chinese in Calibri
    assert runs > 30


def test_fonts_and_sizes_by_role(docx_path):
    doc = Document(str(docx_path))
    title = para(doc, "绿春县民政局关于")
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert {(east_asia(r), r.font.size.pt, r.font.bold) for r in title.runs} == {
        ("方正小标宋简体", 22, False)
    }
    assert [r.text.lstrip("\n") for r in title.runs] == [
        "绿春县民政局关于政协绿春县第十四届委员会",
        "第四次会议第57号提案的答复函",
    ]
    assert len(title._p.findall(".//" + qn("w:br"))) == 1  # two balanced lines

    h1 = para(doc, "一、聚焦强基固本")
    assert [(east_asia(r), r.font.size.pt) for r in h1.runs] == [("黑体", 16)]
    assert h1.paragraph_format.first_line_indent.twips == 640  # two characters

    h2 = para(doc, "（一）统筹协调抓落实。")
    assert [(r.text[:10], east_asia(r)) for r in h2.runs] == [
        ("（一）统筹协调抓落实", "楷体_GB2312"),
        ("2024年以来，先后", "仿宋_GB2312"),
    ]

    body = para(doc, "您在县政协")
    assert body.paragraph_format.first_line_indent.twips == 640
    ind = body._p.pPr.find(qn("w:ind"))
    assert ind.get(qn("w:firstLineChars")) == "200"
    (run,) = body.runs
    assert (east_asia(run), run.font.size.pt, rpr_val(run, "w:spacing")) == ("仿宋_GB2312", 16, "-5")

    salutation = para(doc, "尊敬的施艳梅委员：")
    assert salutation.paragraph_format.first_line_indent.twips == 0

    mark = para(doc, "A类")
    assert mark.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    number = para(doc, "绿民函〔2025〕83号")
    assert number.alignment == WD_ALIGN_PARAGRAPH.RIGHT


def test_title_lines_do_not_split_a_number_word(figures, profile, tmp_path):
    spec = tmp_path / "session.toml"
    text = SPEC_2025.read_text(encoding="utf-8")
    spec.write_text(
        text.replace('session = "政协绿春县第十四届委员会第四次会议"', 'session = "政协绿春县十四届四次会议"')
    )
    doc = Document(str(write_docx(render_letter(load_spec(spec), figures, profile), tmp_path / "t.docx")))
    title = para(doc, "绿春县民政局关于")
    assert [r.text.lstrip("\n") for r in title.runs] == [
        "绿春县民政局关于政协绿春县",
        "十四届四次会议第57号提案的答复函",
    ]


def test_two_blank_lines_above_the_title_and_one_below(docx_path):
    doc = Document(str(docx_path))
    texts = [p.text for p in doc.paragraphs]
    number, title = (
        texts.index("绿民函〔2025〕83号"),
        texts.index("绿春县民政局关于政协绿春县第十四届委员会\n第四次会议第57号提案的答复函"),
    )
    assert texts[number + 1 : title] == ["", ""]
    assert texts[title + 1 : title + 3] == ["", "尊敬的施艳梅委员："]


def test_sender_and_date_on_the_right(docx_path):
    doc = Document(str(docx_path))
    sender = next(p for p in doc.paragraphs if p.text == "绿春县民政局")
    date = doc.paragraphs[-1]
    assert date.text == "2025年12月26日"
    assert sender.alignment == date.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    # 日期右空二字; 署名首字在日期首字左边二字 (date 7 characters wide, sender 6): sender right indent 5
    assert (date.paragraph_format.right_indent.twips, sender.paragraph_format.right_indent.twips) == (
        640,
        1600,
    )
    assert sender.paragraph_format.keep_with_next is True
    last_body = para(doc, "感谢你们")
    assert last_body.paragraph_format.keep_with_next is True


def test_headings_keep_with_their_text(tmp_path):
    """A heading is never the last line of a page: every level that stands alone keeps with what follows."""
    markup = (
        "# 标题\n## 一、总体情况\n### （二）统筹协调\n#### 1.小标题\n##### （1）小小标题\n\n正文。\n\n"
        "### （三）接排的标题。后面是正文。\n\n正文二。\n"
    )
    letter = Letter(parse_markup(markup), [], load_spec(SPEC_2025), 2025, False)
    doc = Document(str(write_docx(letter, tmp_path / "h.docx")))
    for start in ("一、总体情况", "（二）统筹协调", "1.小标题", "（1）小小标题"):
        pf = para(doc, start).paragraph_format
        assert (pf.keep_with_next, pf.keep_together) == (True, True), start
    # a （三） heading that runs on into its paragraph carries its own text; body paragraphs flow freely
    for start in ("（三）接排的标题", "正文。", "正文二。"):
        assert not para(doc, start).paragraph_format.keep_with_next, start


def test_odd_and_even_page_number_footers(docx_path):
    sec = Document(str(docx_path)).sections[0]
    for footer, align, indent in (
        (sec.footer, WD_ALIGN_PARAGRAPH.RIGHT, "right_indent"),
        (sec.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, "left_indent"),
    ):
        (p,) = footer.paragraphs
        assert p.text == "— 1 —"
        assert p.alignment == align
        assert getattr(p.paragraph_format, indent).twips == 280  # one 4号 character in
        instr = "".join(t.text for t in p._p.iter(qn("w:instrText")))
        assert instr.strip() == "PAGE"
        assert {(east_asia(r), r.font.size.pt) for r in p.runs} == {("宋体", 14)}


def test_docx_holds_every_seed_figure(docx_path):
    text = "\n".join(p.text for p in Document(str(docx_path)).paragraphs)
    assert figures_in(text) == figures_in("\n".join(seed_letter_lines()))
    assert "索引号" not in text  # web-page metadata goes to the document properties, not the page
    props = Document(str(docx_path)).core_properties
    assert "索引号：lcxmzj/2026-00004" in props.comments
    assert props.author == "绿春县民政局"


def test_properties_are_the_letter_s_not_python_docx_s_template(docx_path):
    """No 2013 dates, no “Microsoft Macintosh Word”, no Japanese East Asian language, no stray thumbnail."""
    before = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    doc = Document(str(docx_path))
    props = doc.core_properties
    assert props.title == "绿春县民政局关于政协绿春县第十四届委员会第四次会议第57号提案的答复函"
    assert props.identifier == "绿民函〔2025〕83号"
    assert props.author == props.last_modified_by == "绿春县民政局"
    for when in (props.created, props.modified):
        assert before < when.replace(tzinfo=dt.UTC) <= dt.datetime.now(dt.UTC)
    lang = doc.settings.element.find(qn("w:themeFontLang"))
    assert lang.get(qn("w:eastAsia")) == "zh-CN"
    with zipfile.ZipFile(docx_path) as z:
        app = z.read("docProps/app.xml").decode("utf-8")
        names = z.namelist()
    assert "<Application>carestats " in app and "Microsoft" not in app
    assert not any("thumbnail" in n for n in names), names


def test_optional_elements_and_draft_header(figures, profile, tmp_path):
    letter = render_letter(load_spec(_spec_with_extras(tmp_path)), figures, profile, draft=True)
    doc = Document(str(write_docx(letter, tmp_path / "x.docx")))
    sec = doc.sections[0]
    assert sec.header.paragraphs[0].text == sec.even_page_header.paragraphs[0].text == "草稿（未通过审核）"
    number = para(doc, "绿民函〔2025〕83号")
    assert number.text == "绿民函〔2025〕83号\t签发人：李某某"
    # 文号 one character in from the left, 签发人 one character in from the right (GB/T 9704 7.2.4): a tab
    # stop counts from the margin, not from the indent, so it sits at the 版心 width (8845) less one character
    assert number.paragraph_format.left_indent.twips == 320
    (tab,) = number.paragraph_format.tab_stops
    assert (tab.position.twips, tab.alignment) == (8845 - 320, WD_TAB_ALIGNMENT.RIGHT)
    assert east_asia(number.runs[-1]) == "楷体_GB2312"  # the name in 楷体
    note = para(doc, "（联系人")
    assert note.text == "（联系人：王某某，联系电话：0873-4221234）"
    cc = doc.paragraphs[-1]
    assert cc.text == "抄送：县政协提案委员会、县人民政府督查室。"
    assert {r.font.size.pt for r in cc.runs} == {14}
    _assert_cc_at_the_foot_of_the_page(cc)


def _assert_cc_at_the_foot_of_the_page(cc) -> None:
    """GB/T 9704 7.4.1: the 版记 at the bottom of the last page's 版心, between two rules as wide as the 版心."""
    pf = cc.paragraph_format
    # no indents, so the rules (its top and bottom borders) span the 版心; the text one 4号 character in
    assert (pf.left_indent.twips, pf.right_indent.twips, pf.first_line_indent.twips) == (0, 0, 280)
    borders = cc._p.pPr.find(qn("w:pBdr"))
    for side in ("top", "bottom"):
        rule = borders.find(qn(f"w:{side}"))
        assert (rule.get(qn("w:val")), rule.get(qn("w:sz"))) == ("single", "8"), side  # 0.35 mm
    frame = cc._p.pPr.find(qn("w:framePr"))
    assert {k.split("}")[1]: v for k, v in frame.attrib.items()}.items() >= {
        "w": "8845",
        "hAnchor": "margin",
        "vAnchor": "margin",
        "yAlign": "bottom",
        "wrap": "notBeside",
    }.items()


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (LibreOffice / poppler-utils)")
    return path


def test_libreoffice_renders_it_with_page_numbers_and_three_font_families(docx_path, tmp_path):
    soffice, pdftotext, pdffonts = _tool("soffice"), _tool("pdftotext"), _tool("pdffonts")
    env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF)}
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(docx_path),
        ],
        check=True,
        capture_output=True,
        env=env,
        timeout=180,
    )
    pdf = tmp_path / "答复函.pdf"
    text = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    assert 4 <= len(pages) <= 6
    for n, page in enumerate(pages, start=1):
        assert f"—{n}—" in "".join(page.split()), n
    squashed = "".join(pages[0].split())
    assert "绿春县民政局关于政协绿春县第十四届委员会" in squashed
    assert "2025年12月26日" in "".join(pages[-1].split())
    fonts = subprocess.run([pdffonts, str(pdf)], capture_output=True, text=True, check=True).stdout
    for family in ("NotoSerifCJK", "NotoSansCJK", "UKai"):  # 仿宋/小标宋, 黑体, 楷体 stand-ins
        assert family in fonts, fonts


def test_libreoffice_puts_the_cc_block_at_the_foot_of_the_last_page(figures, profile, tmp_path):
    soffice, pdftotext = _tool("soffice"), _tool("pdftotext")
    letter = render_letter(load_spec(_spec_with_extras(tmp_path)), figures, profile)
    docx = write_docx(letter, tmp_path / "cc.docx")
    env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF)}
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path / 'lo'}", "--headless", "--convert-to", "pdf"]
        + ["--outdir", str(tmp_path), str(docx)],
        check=True,
        capture_output=True,
        env=env,
        timeout=180,
    )
    bbox = subprocess.run(
        [pdftotext, "-bbox", str(tmp_path / "cc.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = bbox.split("<page ")[1:]
    last = pages[-1]
    words = re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)<', last)
    (y_min, y_max) = next((float(a), float(b)) for a, b, w in words if w.startswith("抄送"))
    bottom = (16838 - 1984) / 20  # the 版心's bottom edge, in points from the top of the page
    assert bottom - 29 < y_min < y_max < bottom  # on the last line of the 版心, not under the 附注
    assert "联系人" in "".join(w for _, _, w in words)  # and on the same page as the 附注 above it
