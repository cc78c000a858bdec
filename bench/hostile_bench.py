"""Seconds and peak memory of ``carestats ingest`` on each hostile file, measured with ``/usr/bin/time -v``.

    python bench/hostile_bench.py

The files are the ones tests/test_hostile.py builds (a zip bomb of 1.1 GB of sheet XML, billion laughs, a stray
cell at XFD1048576, an encrypted workbook …). Each is ingested into a store that holds the 13 example returns.
Needs GNU time (Debian: ``apt-get install time``); the script says so and stops if it is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hostile_files import laughs_after_padding, zip_bomb_lying  # noqa: E402
from tests.test_hostile import LAUGHS, _body, _with_stray_cell  # noqa: E402  (the test suite's hostile files)
from tests.workbooks import EXAMPLES, write_table1  # noqa: E402


def build(folder: Path) -> dict[str, Path]:
    src = write_table1(folder / "src.xlsx")
    files: dict[str, Path] = {}
    (folder / "empty.xlsx").write_bytes(b"")
    files["0-byte file"] = folder / "empty.xlsx"
    (folder / "random.xlsx").write_bytes(os.urandom(20000))
    files["random bytes named .xlsx"] = folder / "random.xlsx"
    data = src.read_bytes()
    (folder / "half.xlsx").write_bytes(data[: len(data) // 2])
    files["truncated .xlsx"] = folder / "half.xlsx"
    (folder / "doc.xls").write_bytes(b"%PDF-1.4\n%%EOF\n")
    files["PDF renamed .xls"] = folder / "doc.xls"
    try:
        from msoffcrypto.format.ooxml import OOXMLFile

        with src.open("rb") as a, (folder / "locked.xlsx").open("wb") as b:
            OOXMLFile(a).encrypt("123456", b)
        files["password-protected workbook"] = folder / "locked.xlsx"
    except ImportError:
        pass
    files["stray cell at XFD1048576 (reads)"] = _with_stray_cell(src, folder / "stray.xlsx")
    bomb = folder / "bomb.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(item, zin.read(item.filename))
        with zout.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            for _ in range(1100):
                fh.write(b" " * (1 << 20))
    files["zip bomb (1.1 GB sheet XML)"] = bomb
    laughs = folder / "laughs.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(laughs, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            payload = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                payload = LAUGHS + _body(payload).replace(b"<t>", b"<t>&lol9;", 1)
            zout.writestr(item, payload)
    files["billion laughs in a sheet"] = laughs
    files["zip bomb lying about its size"] = zip_bomb_lying(folder / "liar.xlsx")
    files["DOCTYPE behind 8 KB of comment"] = laughs_after_padding(folder / "padded.xlsx")
    return files


def main() -> None:
    gnu_time = shutil.which("time") if Path("/usr/bin/time").exists() else None
    if gnu_time is None:
        raise SystemExit("需要 GNU time(/usr/bin/time):Debian/Ubuntu 上运行 apt-get install time 后再试。")
    exe = shutil.which("carestats", path=str(Path(sys.executable).parent)) or "carestats"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base = work / "base.db"
        subprocess.run([exe, "ingest", "--db", str(base), str(EXAMPLES)], check=True, capture_output=True)
        print(f"{'hostile file':<36}{'size KB':>10}{'exit':>6}{'seconds':>9}{'peak MB':>9}")
        for label, path in build(work).items():
            db = work / "run.db"
            if not label.endswith("(reads)"):  # a file that reads is a 大兴镇 return: into an empty store
                shutil.copy(base, db)
            p = subprocess.run(
                ["/usr/bin/time", "-v", exe, "ingest", "--db", str(db), str(path)],
                capture_output=True,
                text=True,
            )
            secs = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+(?:\.\d+)?)", p.stderr)
            rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
            seconds = float(secs.group(2)) + 60 * int(secs.group(1) or 0) if secs else float("nan")
            peak = int(rss.group(1)) / 1024 if rss else float("nan")
            print(
                f"{label:<36}{path.stat().st_size / 1024:>10.0f}{p.returncode:>6}{seconds:>9.2f}{peak:>9.1f}"
            )
            for f in work.glob("run.db*"):
                f.unlink()


if __name__ == "__main__":
    main()
