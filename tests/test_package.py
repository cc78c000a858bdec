"""The struct/zlib zip reader gives what zipfile gives, hands the rest to zipfile, and refuses damage."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from carestats.package import Package, ZipfilePackage, open_package

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples" / "2025"


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.xlsx"))[:4], ids=lambda p: p.name)
def test_real_returns_read_as_zipfile_reads_them(path: Path):
    data = path.read_bytes()
    pkg = open_package(data)
    assert isinstance(pkg, Package)  # the fast path, not the fallback
    with zipfile.ZipFile(path) as zf:
        assert pkg.namelist() == zf.namelist()
        assert [(m.filename, m.file_size, m.compress_size) for m in pkg.infolist()] == [
            (i.filename, i.file_size, i.compress_size) for i in zf.infolist()
        ]
        for name in zf.namelist():
            assert pkg.read(name) == zf.read(name)


def test_stored_members_and_utf8_names():
    data = _zip({"xl/workbook.xml": b"<workbook/>", "中文/名字.xml": b"x" * 1000}, zipfile.ZIP_STORED)
    pkg = open_package(data)
    assert isinstance(pkg, Package)
    assert pkg.read("中文/名字.xml") == b"x" * 1000


def test_other_compression_is_read_through_zipfile():
    data = _zip({"a.xml": b"<a>" * 500}, zipfile.ZIP_BZIP2)
    assert open_package(data).read("a.xml") == b"<a>" * 500


def test_data_before_the_archive_goes_to_zipfile():
    data = b"junk before the archive" + _zip({"a.xml": b"<a/>"})
    pkg = open_package(data)
    assert isinstance(pkg, ZipfilePackage)
    assert pkg.read("a.xml") == b"<a/>"


def test_a_repeated_name_is_listed_twice_and_read_as_the_last():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, pytest.warns(UserWarning):
        zf.writestr("a.xml", b"first")
        zf.writestr("a.xml", b"second, much longer")
    pkg = open_package(buf.getvalue())
    assert [m.filename for m in pkg.infolist()] == ["a.xml", "a.xml"]
    assert pkg.read("a.xml") == b"second, much longer"


def test_a_flipped_byte_fails_its_crc():
    data = bytearray(_zip({"a.xml": b"<row>" * 2000}))
    start = 30 + len("a.xml")  # the first member's data, right after its local header
    data[start + 10] ^= 0xFF
    with pytest.raises((zipfile.BadZipFile, zlib.error)):  # a broken stream or a wrong CRC: both are damage
        open_package(bytes(data)).read("a.xml")


def test_a_member_larger_than_declared_is_damaged_and_inflated_no_further():
    data = bytearray(_zip({"a.xml": b"A" * 5_000_000}))
    cd = data.index(b"PK\x01\x02")
    struct.pack_into("<L", data, cd + 24, 100)  # central directory: uncompressed size 100 bytes
    with pytest.raises(zipfile.BadZipFile, match="size or CRC"):
        Package(bytes(data)).read("a.xml")


def test_an_encrypted_member_says_so():
    data = bytearray(_zip({"a.xml": b"<a/>"}))
    cd = data.index(b"PK\x01\x02")
    flags = struct.unpack_from("<H", data, cd + 8)[0]
    struct.pack_into("<H", data, cd + 8, flags | 0x1)
    with pytest.raises(RuntimeError, match="encrypted"):
        open_package(bytes(data)).read("a.xml")


def test_a_truncated_archive_is_not_a_zip():
    data = _zip({"a.xml": b"<a/>" * 100})
    with pytest.raises(zipfile.BadZipFile):
        open_package(data[: len(data) // 2])


def test_an_absent_member_is_a_key_error():
    with pytest.raises(KeyError):
        open_package(_zip({"a.xml": b"<a/>"})).read("b.xml")


@pytest.mark.parametrize(
    ("xml", "declared"),
    [
        (b'<?xml version="1.0"?><worksheet><c r="A1"/></worksheet>', False),
        (b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet>&a;</worksheet>', True),
        (b"<!-- <root> inside a comment -->" * 300 + b"<!DOCTYPE x><worksheet/>", True),  # padded prolog
        (b'<?xml version="1.0"?><?pi <a?><!--c--><!DOCTYPE x SYSTEM "f"><w/>', True),
        (b"<worksheet><v>&lt;!DOCTYPE in text is escaped</v></worksheet>", False),
        (b"", False),
    ],
)
def test_a_doctype_is_found_in_the_prolog_however_padded(xml: bytes, declared: bool):
    from carestats.reader import _declares_doctype

    assert _declares_doctype(xml) is declared
