"""Province-scale ingest benchmark: carestats ingest against the naive pandas loop and the calamine floor.

    python bench/ingest_bench.py --files 1000 [--runs 3] [--keep DIR]

Generates N returns for N distinct synthetic townships (each a full-size 2025 表一: title, subtitle, 填报单位
row, header, section rows, all 29 indicators, footer; layouts alternate between the form as issued and the
form without its 指标代码 column, with 万元 money on every third file), plus a synthetic profile listing the
townships. Then it times whole processes, alternating, ``--runs`` times each:

  (a) ``carestats ingest`` of all N into a fresh store;
  (b) the naive baseline: ``pandas.read_excel(path, header=None, engine="openpyxl")`` in a loop;
  (c) the reading floor: python-calamine reading every cell of every sheet (``to_python()``) in a loop;

and also ``carestats --version`` against ``python -c pass``, and ``carestats check`` on the ingested store.
Peak memory is the largest resident set of the measured process tree (``ru_maxrss`` of the waited children).
The last line is ``ratio_vs_naive=<median a/b> ratio_vs_floor=<median a/c>``.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.workbooks import write_table1, write_table2  # noqa: E402  (the test suite's real-form writers)

NAIVE = """
import sys, pandas
for p in sys.argv[1:]:
    pandas.read_excel(p, header=None, engine="openpyxl")
"""
FLOOR = """
import sys
from python_calamine import CalamineWorkbook
for p in sys.argv[1:]:
    wb = CalamineWorkbook.from_path(p)
    for name in wb.sheet_names:
        wb.get_sheet_by_name(name).to_python()
"""


def make_profile(target: Path, names: list[str]) -> Path:
    shutil.copytree(ROOT / "data" / "profile", target)
    with (target / "units.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["单位名称", "类别", "报送表", "其他写法"])
        for name in names:
            w.writerow([name, "乡镇", "表一", ""])
        w.writerow(["县卫生健康局", "部门", "表二", "县卫健局"])  # files the one-row-a-township 表二
        # the other tables' filers, as the profile check requires (the benchmark sends none of their returns)
        for name, table in (("县民政局", "表三"), ("县妇联", "表四"), ("县教育局", "表五")):
            w.writerow([name, "部门", table, ""])
    return target


def example_figures() -> dict[str, int | float]:
    """大兴镇's 2025 figures, from its bundled example 表一 and its row of the bundled 表二, as carestats reads
    them (whole numbers as int): the benchmark needs nothing outside the checkout."""
    from carestats.ingest import Prepared, prepare_file
    from carestats.profile import Profile

    profile = Profile.load()
    figures: dict[str, int | float] = {}
    for name in ("大兴镇2025年一老一小统计表.xlsx", "县卫健局2025年老年人健康管理情况表.xlsx"):
        prep = prepare_file(ROOT / "data" / "examples" / "2025" / name, profile)
        if not isinstance(prep, Prepared):
            raise SystemExit(f"the bundled example {name} does not read: {prep.message}")
        for unit, code, role, value, *_ in prep.values:
            if unit == "大兴镇" and role == "value":
                figures[code] = int(value) if "." not in value else float(value)
    return figures


def make_returns(folder: Path, names: list[str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    figures = example_figures()
    base = {k: v for k, v in figures.items() if not k.startswith("H")}
    paths = []
    for i, name in enumerate(names):
        # every figure shifted by the same small amount keeps the 审核关系 true; B05 stays 1 (one station)
        values = {k: (v + i % 7 if isinstance(v, int) else float(v) + i % 7) for k, v in base.items()}
        values["B05"] = 1
        units = {}
        if i % 3 == 2:
            for code in ("A07", "A09", "A12", "C09"):
                values[code] = values[code] / 10000
                units[code] = "万元"
        path = folder / f"{name}2025年一老一小统计表.xlsx"
        write_table1(
            path,
            name,
            2025,
            values,
            codes=i % 2 == 0,
            units=units,
            subtitle="(统计时段:2025年1月1日至2025年12月31日)",
        )
        paths.append(path)
    h = {c: figures[c] for c in ("H01", "H02", "H03", "H04")}
    paths.append(
        write_table2(folder / "县卫生健康局老年人健康管理情况表.xlsx", {n: h for n in names}, total={})
    )
    return paths


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Seconds and peak MB of one whole process (and the workers it waits for)."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
        "dt = time.perf_counter() - t\n"
        "if r.returncode not in (0, 1): sys.stderr.buffer.write(r.stderr); sys.exit(r.returncode)\n"
        "print(dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd[:4])} …\n{out.stderr}")
    secs, kb = out.stdout.split()
    return float(secs), int(kb) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    args = ap.parse_args()
    try:
        import openpyxl  # noqa: F401
        import pandas  # noqa: F401  (the baseline runs in its own process; fail here, not after generating)
    except ImportError as exc:
        raise SystemExit(
            f"the naive baseline needs pandas and openpyxl: pip install -e '.[test]' ({exc})"
        ) from exc

    work = args.keep or Path(tempfile.mkdtemp(prefix="carestats-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    exe = shutil.which("carestats", path=str(Path(sys.executable).parent)) or "carestats"
    names = [f"测试{i:05d}乡" for i in range(1, args.files + 1)]
    t0 = time.perf_counter()
    profile = make_profile(work / "profile", names) if not (work / "profile").exists() else work / "profile"
    files = sorted((work / "returns").glob("*.xlsx")) if (work / "returns").exists() else []
    if len(files) != args.files + 1:
        shutil.rmtree(work / "returns", ignore_errors=True)
        files = make_returns(work / "returns", names)
    print(
        f"{len(files)} returns ({args.files} 表一 and one 表二 of {args.files} rows) in {work / 'returns'} (generated in {time.perf_counter() - t0:.1f} s)"
    )
    env = dict(os.environ, CARESTATS_PROFILE=str(profile))
    file_args = [str(p) for p in files]
    # Bytecode as an installed package has it: with PYTHONDONTWRITEBYTECODE set (as on some machines) an
    # editable install would recompile carestats at every start, while pandas and calamine are precompiled.
    import carestats

    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(carestats.__file__).parent)], check=True
    )

    results: dict[str, list[tuple[float, float]]] = {"a": [], "b": [], "c": []}
    for run in range(args.runs):
        db = work / f"run{run}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        results["a"].append(measure([exe, "ingest", "--db", str(db), str(work / "returns")], env))
        results["b"].append(measure([sys.executable, "-c", NAIVE, *file_args]))
        results["c"].append(measure([sys.executable, "-c", FLOOR, *file_args]))
    last_db = work / f"run{args.runs - 1}.db"
    check = [
        measure([exe, "check", "--db", str(last_db), "--year", "2025", "--format", "json"], env)
        for _ in range(args.runs)
    ]
    version = [measure([exe, "--version"]) for _ in range(5)]
    bare = [measure([sys.executable, "-c", "pass"]) for _ in range(5)]

    def med(xs: list[tuple[float, float]]) -> tuple[float, float]:
        return statistics.median(x[0] for x in xs), max(x[1] for x in xs)

    rows = [
        ("(a) carestats ingest", med(results["a"])),
        ("(b) naive pandas.read_excel(openpyxl) loop", med(results["b"])),
        ("(c) floor: calamine to_python() loop", med(results["c"])),
        ("carestats check --format json on the store", med(check)),
        ("carestats --version", med(version)),
        ("python -c pass", med(bare)),
    ]
    print(f"\nN = {args.files} files, {args.runs} runs each (median seconds; peak MB of the process tree)")
    print(f"{'what':<46}{'median s':>10}{'per file ms':>13}{'peak MB':>10}")
    for label, (secs, mb) in rows:
        per = f"{secs / args.files * 1000:.3f}" if label.startswith("(") else ""
        print(f"{label:<46}{secs:>10.3f}{per:>13}{mb:>10.1f}")
    a = [x[0] for x in results["a"]]
    ratio_naive = statistics.median(x / y[0] for x, y in zip(a, results["b"], strict=True))
    ratio_floor = statistics.median(x / y[0] for x, y in zip(a, results["c"], strict=True))
    print(
        f"\n(the benchmark script itself: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)"
    )
    print(f"ratio_vs_naive={ratio_naive:.3f} ratio_vs_floor={ratio_floor:.3f}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
