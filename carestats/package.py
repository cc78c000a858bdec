"""A zip package (.xlsx) read from its bytes: the directory with ``struct``, members with ``zlib``.

Why not only ``zipfile``: for a return of a few kilobytes, zipfile's directory parsing and member objects
cost as much as calamine's whole read, and every file of a province-wide batch is pre-scanned. This covers
the packages office programs write (deflated or stored members, one disk); anything else (zip64, other
compressions, data before the archive) is handed to ``zipfile``. Either way a member is inflated to at most
its declared size plus one byte, so a header that lies about its size costs nothing and fails as damaged.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import NamedTuple

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory, 22 bytes
# a central directory entry (46 bytes): signature, flags, method, crc, sizes, name/extra/comment lengths, offset
_CDIR_FIELDS = struct.Struct("<4s4xHH4xLLLHHH8xL")
_LOCAL = struct.Struct("<4s2B4HL2L2H")  # local file header, 30 bytes


class Unsupported(Exception):
    """A valid archive this reader leaves to zipfile."""


class Member(NamedTuple):
    """A central directory entry (a tuple: one is made for every part of every file)."""

    filename: str
    compress_size: int
    file_size: int
    offset: int  # of the local header
    method: int
    flags: int
    crc: int


class Package:
    """Directory and members of a zip archive held in memory. Raises ``zipfile.BadZipFile`` when damaged."""

    def __init__(self, data: bytes):
        self._data = data
        self._infos = _directory(data)
        self._members = {m.filename: m for m in self._infos}  # a repeated name: the last one, as zipfile
        self._fallback: zipfile.ZipFile | None = None

    def namelist(self) -> list[str]:
        return list(self._members)

    def infolist(self) -> list[Member]:
        return list(self._infos)

    def read(self, name: str) -> bytes:
        """A member's bytes, checked against its declared size and CRC. KeyError when absent."""
        m = self._members[name]
        if m.flags & 0x1:
            raise RuntimeError(f"File {name!r} is encrypted, password required for extraction")
        if m.method not in (0, 8):
            return self._zipfile().read(name)  # bzip2/lzma: rare; zipfile knows them
        raw = self._compressed(m)
        out = raw if m.method == 0 else zlib.decompressobj(-15).decompress(raw, m.file_size + 1)
        if len(out) != m.file_size or zlib.crc32(out) != m.crc:
            raise zipfile.BadZipFile(f"bad size or CRC for {name!r}")
        return out

    def fingerprint(self, name: str) -> tuple | None:
        """What determines a member's ``read``: its directory entry and its compressed bytes. Two members
        with the same fingerprint read the same (or fail the same way), so what was learnt from one holds
        for the other. None when the member is not one this reader inflates itself."""
        m = self._members[name]
        if m.flags & 0x1 or m.method not in (0, 8):
            return None
        return (m.method, m.crc, m.file_size, self._compressed(m))

    def _compressed(self, m: Member) -> bytes:
        data = self._data
        if data[m.offset : m.offset + 4] != b"PK\x03\x04" or m.offset + _LOCAL.size > len(data):
            raise zipfile.BadZipFile(f"bad local header for {m.filename!r}")
        fields = _LOCAL.unpack_from(data, m.offset)
        start = m.offset + _LOCAL.size + fields[10] + fields[11]
        raw = data[start : start + m.compress_size]
        if len(raw) != m.compress_size:
            raise zipfile.BadZipFile(f"{m.filename!r} is truncated")
        return raw

    def _zipfile(self) -> zipfile.ZipFile:
        if self._fallback is None:
            self._fallback = zipfile.ZipFile(io.BytesIO(self._data))
        return self._fallback


class ZipfilePackage:
    """The same reading interface over ``zipfile``, for the archives ``Package`` leaves to it."""

    def __init__(self, data: bytes):
        self._zf = zipfile.ZipFile(io.BytesIO(data))

    def namelist(self) -> list[str]:
        return self._zf.namelist()

    def infolist(self) -> list[zipfile.ZipInfo]:
        return self._zf.infolist()

    def read(self, name: str) -> bytes:
        """Inflated a megabyte at a time: zipfile stops at the declared size and then checks the CRC."""
        info = self._zf.getinfo(name)
        chunks = []
        with self._zf.open(info) as fh:
            while chunk := fh.read(1 << 20):
                chunks.append(chunk)
        return b"".join(chunks)


def open_package(data: bytes) -> Package | ZipfilePackage:
    """The package's reader; ``zipfile.BadZipFile`` when the bytes are not a readable archive."""
    try:
        return Package(data)
    except Unsupported:
        return ZipfilePackage(data)


def _directory(data: bytes) -> list[Member]:
    pos = data.rfind(b"PK\x05\x06", max(0, len(data) - _EOCD.size - 0xFFFF))
    if pos < 0 or pos + _EOCD.size > len(data):
        raise zipfile.BadZipFile("no end of central directory")
    _sig, disk, cd_disk, n_disk, n, cd_size, cd_off, _clen = _EOCD.unpack_from(data, pos)
    if disk or cd_disk or n != n_disk or 0xFFFF in (n, n_disk) or 0xFFFFFFFF in (cd_size, cd_off):
        raise Unsupported("multi-disk or zip64")
    if pos >= 20 and data[pos - 20 : pos - 16] == b"PK\x06\x07":
        raise Unsupported("zip64 locator")
    if cd_off + cd_size != pos:
        raise Unsupported("data before the archive or a damaged directory: zipfile decides")
    members: list[Member] = []
    p = cd_off
    # hot (every part of every file): the struct's and the tuple's methods looked up once
    unpack, size, make = _CDIR_FIELDS.unpack_from, _CDIR_FIELDS.size, Member._make
    for _ in range(n):
        if p + size > pos:
            raise zipfile.BadZipFile("bad central directory")
        sig, flags, method, crc, csize, fsize, nlen, xlen, clen, offset = unpack(data, p)
        if sig != b"PK\x01\x02":
            raise zipfile.BadZipFile("bad central directory")
        if 0xFFFFFFFF in (csize, fsize, offset):
            raise Unsupported("zip64 member")
        raw = data[p + size : p + size + nlen]
        name = raw.decode("utf-8") if flags & 0x800 or raw.isascii() else raw.decode("cp437")
        if "\x00" in name:
            name = name.split("\x00", 1)[0]  # as zipfile does
        members.append(make((name, csize, fsize, offset, method, flags, crc)))
        p += size + nlen + xlen + clen
    return members
