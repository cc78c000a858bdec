"""Hostile and broken inputs: a clear Chinese line, exit 1, the store unchanged, bounded memory.

Each hostile file is made here and ingested by ``python -m carestats`` in a subprocess under an address-space
cap (RLIMIT_AS) and a generous hang timeout; there are no timing assertions. ``bench/hostile_bench.py``
measures the real seconds and megabytes.
"""

from __future__ import annotations

import io
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from tests.workbooks import EXAMPLES, TOWNSHIPS, expected_2025, write_table1

MEM_CAP = 1536 * 1024 * 1024  # bytes of address space for one ingest of one hostile file
HANG = 120  # seconds: a hang, not a speed limit


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEM_CAP, MEM_CAP))


def cli(*args: object, cwd: Path | None = None, capped: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "carestats", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=HANG,
        preexec_fn=_cap if capped else None,
        cwd=cwd,
    )


def snapshot(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT s.file_name, s.status, v.unit, v.code, v.value, v.raw, v.cell FROM vals v"
            " JOIN submissions s ON s.id = v.submission_id ORDER BY v.id"
        ).fetchall()
    finally:
        conn.close()


@pytest.fixture
def db(example_db: Path, tmp_path: Path) -> Path:
    """A store that already holds the 13 example returns: a hostile file must not change a figure of it."""
    path = tmp_path / "store.db"
    shutil.copy(example_db, path)
    return path


def assert_refused(db: Path, path: Path, *words: str) -> str:
    before = snapshot(db)
    p = cli("ingest", "--db", db, path)
    out = p.stdout + p.stderr
    assert p.returncode == 1, out
    assert path.name in p.stderr and "拒收" in p.stderr, out
    for w in words:
        assert w in p.stderr, out
    assert "Traceback" not in out
    assert snapshot(db) == before
    debug = cli("ingest", "--db", db, path, "--debug")
    assert debug.returncode == 1 and "Traceback" in debug.stderr  # the technical detail, only when asked
    assert snapshot(db) == before
    return p.stderr


def real_return(tmp_path: Path, name: str = "大兴镇2025年一老一小统计表.xlsx") -> Path:
    return write_table1(tmp_path / name)


# ------------------------------------------------------------------ 1. empty, random, truncated
def test_empty_random_and_truncated_files(db, tmp_path):
    empty = tmp_path / "大兴镇.xlsx"
    empty.write_bytes(b"")
    assert_refused(db, empty, "空的", "重新")
    noise = tmp_path / "牛孔镇.xlsx"
    noise.write_bytes(os.urandom(20000))
    assert_refused(db, noise, "无法识别")
    good = real_return(tmp_path, "source.xlsx").read_bytes()
    half = tmp_path / "平河镇.xlsx"
    half.write_bytes(good[: len(good) // 2])
    assert_refused(db, half, "损坏")


# ------------------------------------------------------------------ 2. other documents renamed
def test_word_document_and_pdf_renamed(db, tmp_path):
    import docx

    doc = docx.Document()
    doc.add_paragraph("会议纪要")
    word = tmp_path / "大兴镇2025年一老一小统计表.xlsx"
    doc.save(word)
    assert_refused(db, word, "Word 文档")
    pdf = tmp_path / "牛孔镇2025年统计表.xls"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n")
    assert_refused(db, pdf, "PDF")


# ------------------------------------------------------------------ 3. encrypted
def test_password_protected_workbook(db, tmp_path):
    msoffcrypto = pytest.importorskip("msoffcrypto")
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = real_return(tmp_path)
    locked = tmp_path / "加密" / plain.name
    locked.parent.mkdir()
    with plain.open("rb") as src, locked.open("wb") as dst:
        OOXMLFile(src).encrypt("123456", dst)
    assert msoffcrypto is not None and locked.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"
    err = assert_refused(db, locked, "加密")
    assert "取消密码" in err


# ------------------------------------------------------------------ 4. no content, no return
def test_empty_workbook_and_meeting_notes_are_errors_named_or_in_a_folder(db, tmp_path):
    folder = tmp_path / "收到的文件"
    folder.mkdir()
    wb = Workbook()
    wb.save(folder / "空表.xlsx")
    wb = Workbook()
    ws = wb.active
    ws.append(["2025年第三次民政工作会议纪要"])
    ws.append(["时间:2025年9月3日", "地点:县民政局会议室"])
    ws.append(["一、传达上级会议精神"])
    wb.save(folder / "会议纪要.xlsx")
    for path in (folder / "空表.xlsx", folder / "会议纪要.xlsx"):
        assert_refused(db, path, "没有找到可识别的报表")
    before = snapshot(db)
    p = cli("ingest", "--db", db, folder)
    assert p.returncode == 1 and p.stderr.count("没有找到可识别的报表") == 2
    assert snapshot(db) == before


def test_a_return_on_a_hidden_sheet_is_refused_saying_how_to_show_it(db, tmp_path):
    def hide(ws):
        ws.parent.create_sheet("Sheet1")
        ws.sheet_state = "hidden"

    path = write_table1(tmp_path / "大兴镇2025年一老一小统计表.xlsx", edit=hide)
    err = assert_refused(db, path, "隐藏的工作表“统计表”", "取消隐藏")
    assert "没有找到可识别的报表" not in err


# ------------------------------------------------------------------ 5. formula without cached value
def test_formula_without_cached_value_names_the_cell(tmp_path):
    def formula(ws):
        for row in ws.iter_rows():
            if row[1].value == "A10":
                row[4].value = "=SUM(14,14)"

    path = write_table1(tmp_path / "三猛乡.xlsx", "三猛乡", edit=formula)
    p = cli("ingest", "--db", tmp_path / "s.db", path)
    assert p.returncode == 1
    assert "统计表!E15" in p.stderr and "WPS" in p.stderr and "保存" in p.stderr
    rows = [r for r in snapshot(tmp_path / "s.db") if r[3] == "A10"]
    assert rows == [
        ("三猛乡.xlsx", "active", "三猛乡", "A10", None, "=SUM(14,14)", "E15")
    ]  # never 0, never blank


# ------------------------------------------------------------------ 6. a stray cell far away
def _with_stray_cell(src: Path, dst: Path, ref: str = "XFD1048576") -> Path:
    """Add a cell holding one space at ``ref`` straight into the sheet XML (as a clerk's stray key press)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                row = ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
                stray = f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t xml:space="preserve"> </t></is></c></row>'
                data = data.replace(b"</sheetData>", stray.encode() + b"</sheetData>")
                data = data.replace(b'<dimension ref="A1:F38"/>', f'<dimension ref="A1:{ref}"/>'.encode())
            zout.writestr(item, data)
    return dst


def test_stray_cell_at_xfd1048576_reads_correctly_in_little_memory(tmp_path):
    path = _with_stray_cell(real_return(tmp_path, "src.xlsx"), tmp_path / "大兴镇2025年一老一小统计表.xlsx")
    p = cli("ingest", "--db", tmp_path / "s.db", path)
    assert p.returncode == 0, p.stdout + p.stderr
    values = {r[3]: r[4] for r in snapshot(tmp_path / "s.db")}
    assert len(values) == 29 and values["A01"] == "569" and values["A07"] == "369104.00"


# ------------------------------------------------------------------ 7. zip bomb
def test_zip_bomb_refused_from_declared_sizes(db, tmp_path):
    src = real_return(tmp_path, "src.xlsx")
    bomb = tmp_path / "大兴镇2025年一老一小统计表.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(item, zin.read(item.filename))
        with zout.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            chunk = b" " * (1 << 20)
            for _ in range(1100):  # 1.1 GB of XML white space, about 1 MB on disk
                fh.write(chunk)
    assert bomb.stat().st_size < 5 * 1024 * 1024
    err = assert_refused(db, bomb, "压缩炸弹")
    assert "profile.toml" in err or "已拒绝" in err


def test_uncompressed_limit_comes_from_the_profile(tmp_path):
    from carestats.profile import init_profile

    prof = init_profile(tmp_path / "配置")
    toml = prof / "profile.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("max_uncompressed_mb = 500", "max_uncompressed_mb = 0"),
        encoding="utf-8",
    )
    path = real_return(tmp_path)
    p = cli("ingest", "--db", tmp_path / "s.db", "--profile", prof, path)
    assert p.returncode == 1 and "max_uncompressed_mb" in p.stderr


# ------------------------------------------------------------------ 8. XML entity expansion
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]>"
)


def _body(xml: bytes) -> bytes:
    """The XML without its declaration, so that the DOCTYPE can go first."""
    return xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml


@pytest.mark.parametrize("member", ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"])
def test_billion_laughs_refused_never_expanded(db, tmp_path, member):
    src = real_return(tmp_path, "src.xlsx")
    bad = tmp_path / "大兴镇2025年一老一小统计表.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == member:
                data = LAUGHS + _body(data).replace(b"<t>", b"<t>&lol9;", 1)
            zout.writestr(item, data)
        if member not in zin.namelist():
            ns = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
            zout.writestr(
                member, LAUGHS + b"<sst " + ns + b' count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'
            )
    assert_refused(db, bad, "实体")


# ------------------------------------------------------------------ 9. .xlsm
def test_xlsm_values_are_read_and_macros_never_run(tmp_path):
    src = real_return(tmp_path, "src.xlsx")
    xlsm = tmp_path / "大兴镇2025年一老一小统计表.xlsm"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(xlsm, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
            zout.writestr(item, data)
        zout.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b'Attribute VB_Name = "Module1"' * 10)
    marker = tmp_path / "macro-ran"
    p = cli("ingest", "--db", tmp_path / "s.db", xlsm, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert len(snapshot(tmp_path / "s.db")) == 29 and not marker.exists()


# ------------------------------------------------------------------ 10. CSV encodings, names, other files
@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_csv_encodings_and_a_chinese_name_with_spaces(tmp_path, profile, encoding):
    exp = expected_2025()["units"]["县民政局"]
    lines = [
        "表三",
        "绿春县2025年县民政局本级“一老一小”工作情况表",
        "填报单位(盖章):县民政局",
        "序号,指标代码,指标名称,计量单位,2025年,备注",
    ]
    for i, code in enumerate(("D01", "D02", "D03", "D04", "D05", "D06", "D07", "B04"), start=1):
        lines.append(
            f"{i},{code},{profile.indicators[code].name},{profile.indicators[code].unit},{exp[code]},"
        )
    path = tmp_path / f"县民政局 本级 {encoding} 报表.csv"
    path.write_bytes("\r\n".join(lines).encode(encoding))
    p = cli("ingest", "--db", tmp_path / "s.db", path)
    assert p.returncode == 0, p.stderr
    assert {r[3]: r[4] for r in snapshot(tmp_path / "s.db")}["D05"] == "4278000.00"


def test_folder_with_documents_skips_them_with_a_note(tmp_path):
    folder = tmp_path / "乡镇 报表"
    folder.mkdir()
    real_return(folder)
    (folder / "说明.docx").write_bytes(b"PK\x03\x04 not read")
    (folder / "扫描件.pdf").write_bytes(b"%PDF-1.4")
    (folder / "备注.txt").write_text("请查收", encoding="utf-8")
    p = cli("ingest", "--db", tmp_path / "s.db", folder)
    assert p.returncode == 0, p.stderr
    for name in ("说明.docx", "扫描件.pdf", "备注.txt"):
        assert f"跳过 {name}" in p.stderr
    assert "跳过非表格文件 3 个" in p.stdout


# ------------------------------------------------------------------ 11. killed midway
def test_ingest_killed_midway_leaves_every_file_whole_and_the_next_one_carries_on(tmp_path, example_db):
    folder = tmp_path / "batch"
    folder.mkdir()
    for unit in TOWNSHIPS:  # nine 表一 returns plus copies of the four departments' files
        write_table1(folder / f"{unit}2025年一老一小统计表.xlsx", unit)
    for src in EXAMPLES.glob("县*.xlsx"):
        shutil.copy(src, folder / src.name)
    db = tmp_path / "kill.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "carestats", "ingest", "--db", str(db), str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline:
        if db.exists():
            try:
                n = sqlite3.connect(db, timeout=1).execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
            except sqlite3.OperationalError:
                n = 0
            if n >= 1:
                break
        if proc.poll() is not None:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    counts = conn.execute(
        "SELECT s.table_id, COUNT(v.id) FROM submissions s LEFT JOIN vals v ON v.submission_id = s.id GROUP BY s.id"
    ).fetchall()
    whole = {"表一": 29, "表二": 40, "表三": 8, "表四": 11, "表五": 14}
    assert counts and all(n == whole[t] for t, n in counts)  # every stored file is whole
    conn.close()
    p = cli("ingest", "--db", db, folder, capped=False)
    assert p.returncode == 0, p.stderr
    assert len(sqlite3.connect(db).execute("SELECT id FROM submissions").fetchall()) == 13


# ------------------------------------------------------------------ 12. two ingests at once
def test_two_ingests_at_the_same_time_on_one_store(tmp_path):
    db = tmp_path / "shared.db"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "carestats", "ingest", "--db", str(db), str(EXAMPLES)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=HANG) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    joined = "".join(o[0] for o in outs)
    assert "汇入 13" in joined or ("汇入" in joined and "未变" in joined)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM submissions WHERE status = 'active'").fetchone()[0] == 13
    assert conn.execute("SELECT COUNT(*) FROM vals").fetchone()[0] == 330 + 4  # plus the 合计 row of 表二


# ------------------------------------------------------------------ 13. no formula from input in outputs
def test_text_from_a_return_is_never_written_as_a_formula(tmp_path):
    values = {k: v for k, v in expected_2025()["units"]["大兴镇"].items() if not k.startswith("H")}
    values["A13"] = '=HYPERLINK("http://example.invalid","点我")'
    values["A10"] = "+1+1"
    values["A11"] = "@SUM(1,2)"
    values["A12"] = "-2+3"

    def as_text(ws):
        for row in ws.iter_rows():
            if row[1].value in ("A13", "A10", "A11", "A12"):
                row[4].data_type = "s"  # typed as text, as a clerk's apostrophe would

    path = write_table1(tmp_path / "大兴镇.xlsx", values=values, edit=as_text)
    db = tmp_path / "s.db"
    assert cli("ingest", "--db", db, path).returncode == 1  # unreadable cells, stored as raw text
    ann = tmp_path / "审核意见"
    assert cli("check", "--db", db, "--annotate", ann).returncode == 1
    assert cli("figures", "--db", db, "-o", tmp_path / "f.xlsx").returncode == 1
    assert cli("figures", "--db", db, "-o", tmp_path / "f.csv").returncode == 1
    outputs = [*ann.glob("*.xlsx"), tmp_path / "f.xlsx"]
    assert len(outputs) >= 3
    for out in outputs:
        wb = load_workbook(out)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    assert c.data_type != "f", (out.name, ws.title, c.coordinate, c.value)
    with zipfile.ZipFile(outputs[0]) as z:  # and no <f> element anywhere in the written sheets
        assert not any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in z.namelist() if n.endswith(".xml"))
    text = (tmp_path / "f.csv").read_text(encoding="utf-8-sig")
    for line in io.StringIO(text):
        for field in line.rstrip("\r\n").split(","):
            assert not field.startswith(("=", "+", "@")), field
