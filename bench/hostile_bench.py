"""Seconds and peak memory of `carestats ingest` on each hostile file (issue 5), measured with /usr/bin/time -v.

Run from the checkout:  .venv/bin/python bench/hostile_bench.py
Prints a Markdown table (the one in README “What carestats refuses and why”). Each file goes into a fresh store
in its own process, so a row is one whole `carestats ingest` run: interpreter start-up included.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import hostile_files as h  # noqa: E402

TIME = "/usr/bin/time"


def measure(path: Path, db: Path) -> tuple[float, float, int, str]:
    """(seconds, peak MB, exit code, the first Chinese line) of one ingest."""
    p = subprocess.run(
        [TIME, "-v", sys.executable, "-m", "carestats", "ingest", "--db", str(db), str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"},
        timeout=600,
    )
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", p.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    if not wall or not rss:
        raise SystemExit(f"无法解析 /usr/bin/time 的输出:\n{p.stderr}")
    seconds = int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3))
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith(("拒收", "无法读取"))]
    return seconds, int(rss.group(1)) / 1024, p.returncode, (lines[0] if lines else "已汇入")


def main() -> int:
    if not shutil.which(TIME) and not Path(TIME).exists():
        print(
            "缺少 /usr/bin/time(GNU time),无法测量内存峰值。请先安装:sudo apt-get install -y time",
            file=sys.stderr,
        )
        return 2
    work = Path(tempfile.mkdtemp(prefix="hostile-bench-"))
    try:
        print("| 情形 | 文件大小 | 耗时 (s) | 内存峰值 (MB) | 退出码 | 结果 |")
        print("|---|---:|---:|---:|---:|---|")
        for label, (name, make) in {**h.REFUSED_MAKERS, **h.READ_MAKERS}.items():
            path = make(work / name)
            seconds, mb, code, line = measure(path, work / f"{abs(hash(label))}.db")
            size = path.stat().st_size
            shown = f"{size / 1024:.0f} KB" if size >= 1024 else f"{size} B"
            result = line.split(":", 1)[-1].split("。")[0] if code else "读入正确"
            print(f"| {label} | {shown} | {seconds:.2f} | {mb:.0f} | {code} | {result} |", flush=True)
            path.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
