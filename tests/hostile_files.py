"""Hostile files beyond tests/test_hostile.py, made on the spot (tests/test_hostile_extra.py, bench/hostile_bench.py).

Nothing is committed as a binary fixture, so every file can be understood by reading the code that makes it.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

from tests.workbooks import expected_2025, write_table1

YEAR = 2024  # files that must read correctly use a year the example store does not hold


def _values(unit: str) -> dict[str, object]:
    return {k: v for k, v in expected_2025()["units"][unit].items() if not k.startswith("H")}


def _valid(path: Path, year: int = YEAR, unit: str = "大兴镇", **kw) -> Path:
    return write_table1(path, unit, year, values=_values(unit), **kw)


def stray_far_cell(path: Path) -> Path:
    """A 2024 大兴镇 return with a space typed at XFD1048576."""

    def edit(ws):
        ws["XFD1048576"] = " "

    return _valid(path, edit=edit)


def zip_bomb_lying(path: Path, inflated_mb: int = 1100) -> Path:
    """The sheet inflates to ``inflated_mb`` MB but the zip headers declare 1000 bytes: the directory check
    sees nothing, so only a reader that stops at the declared size survives it."""
    base = _valid(path.with_name("base-" + path.name))
    member = "xl/worksheets/sheet1.xml"
    with (
        zipfile.ZipFile(base) as zin,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout,
    ):
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename != member:
                zout.writestr(info.filename, data)
                continue
            with zout.open(member, "w") as fh:
                for _ in range(inflated_mb):
                    fh.write(b" " * (1 << 20))  # whitespace before the root element: well-formed XML
                fh.write(data)
    base.unlink()
    raw = bytearray(path.read_bytes())
    name = member.encode()
    at = raw.find(name)
    while at >= 0:  # the uncompressed size, in the local header and in the central directory
        for sig, size_at, fixed in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
            if raw[at - fixed : at - fixed + 4] == sig:
                struct.pack_into("<I", raw, at - fixed + size_at, 1000)
        at = raw.find(name, at + 1)
    path.write_bytes(bytes(raw))
    return path


LAUGHS_DTD = (
    b'<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b"]>\n"
)


def laughs_after_padding(path: Path) -> Path:
    """A billion-laughs DOCTYPE behind 8 KB of comment in the prolog, past where a reader might only peek."""
    base = _valid(path.with_name("base-" + path.name))
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = data.split(b"?>", 1)[-1] if data.startswith(b"<?xml") else data
                data = (
                    b'<?xml version="1.0"?>\n<!--'
                    + b" " * 8192
                    + b"-->\n"
                    + LAUGHS_DTD
                    + body.replace(b"<v>", b"<v>&lol9;", 1)
                )
            zout.writestr(info.filename, data)
    base.unlink()
    return path
