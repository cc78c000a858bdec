"""Paired A/B of two checkouts of carestats ingesting the same returns: is a change really faster?

    python bench/ingest_bench.py --files 1000 --keep /tmp/b1000        # the returns, generated once
    git worktree add /tmp/base HEAD                                    # the code to compare against
    python bench/ab_ingest.py /tmp/base . /tmp/b1000 [--pairs 10]

On this shared two-core machine the same ingest takes 0.9 s in one run and 1.2 s in the next, so two medians
taken minutes apart cannot tell a 5 % change. Here the two checkouts run alternately (A B, B A, …), each
pair a few seconds apart, and the script prints the median of the per-pair ratios B/A as well as the two
medians. Run it with the same checkout on both sides first: the ratio then shows the noise left, which on
this machine is large (the same code against itself gave 0.934, 0.997, 1.004 and 1.052 in four runs of
6–10 pairs; single pairs 0.74–1.25), so only a change of a tenth or more stands out. Each side runs
``python -m carestats ingest`` with that checkout first on the path.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def ingest_seconds(checkout: Path, folder: Path, db: Path) -> float:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=str(checkout), CARESTATS_PROFILE=str(folder / "profile"))
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "carestats", "ingest", "--db", str(db), str(folder / "returns")],
        env=env,
        cwd=db.parent,  # not a checkout: `python -m` puts the working folder first on the path
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{checkout}: ingest failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("baseline", type=Path, help="checkout A (e.g. a git worktree of main)")
    ap.add_argument("candidate", type=Path, help="checkout B (the change)")
    ap.add_argument("folder", type=Path, help="a folder made by ingest_bench.py --keep")
    ap.add_argument("--pairs", type=int, default=10)
    args = ap.parse_args()
    a_src, b_src = args.baseline.resolve(), args.candidate.resolve()
    for src in (a_src, b_src):
        if not (src / "carestats" / "__init__.py").exists():
            raise SystemExit(f"{src} is not a carestats checkout")
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(src / "carestats")], check=True)
    a: list[float] = []
    b: list[float] = []
    with tempfile.TemporaryDirectory(prefix="carestats-ab-") as tmp:
        db = Path(tmp) / "ab.db"
        for i in range(args.pairs):
            order = ((a, a_src), (b, b_src)) if i % 2 == 0 else ((b, b_src), (a, a_src))
            for times, src in order:
                times.append(ingest_seconds(src, args.folder.resolve(), db))
    ratios = [y / x for x, y in zip(a, b, strict=True)]
    print(f"A {statistics.median(a):.3f} s  B {statistics.median(b):.3f} s  ({args.pairs} pairs)")
    print(
        f"ratio_b_over_a={statistics.median(ratios):.3f} (per-pair ratios {min(ratios):.3f}–{max(ratios):.3f})"
    )


if __name__ == "__main__":
    main()
