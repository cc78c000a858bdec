"""Instructions per file of each part of an ingest, counted by valgrind (callgrind): exact and repeatable.

    python bench/ingest_bench.py --files 1000 --keep /tmp/b1000     # generates the returns once
    python bench/instructions.py /tmp/b1000 [--files 200]

Wall-clock times on a shared two-core machine drift by ±20 % from run to run; an instruction count does not,
so this is how a change to the hot path is judged before the benchmark is run again. For each part it runs
the same Python twice under ``valgrind --tool=callgrind``, on no file and on ``--files`` files, and prints
the difference per file: (1) the reading floor (python-calamine opening a return and reading every cell),
(2) ``reader.open_book`` (the floor plus the safety pre-scan, the hash and the sheets), (3) ``prepare_file``
(all a worker process does: read, find the return, parse every value exactly), (4) ``commit_prepared`` (all
the parent does for a file: one SQLite transaction). Needs valgrind on the PATH; not part of the test suite.
"""

from __future__ import annotations

import argparse
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PART = r"""
import pickle, sys
from pathlib import Path
from carestats.profile import Profile
from carestats import ingest
from carestats.reader import open_book
part, folder, n, scratch = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
files = sorted((folder / "returns").glob("*.xlsx"))[1:1 + n]  # the 表一 returns (the first file is 表二)
profile = Profile.load(folder / "profile")
if part == "floor":
    from python_calamine import CalamineWorkbook
    for f in files:
        wb = CalamineWorkbook.from_path(str(f))
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
elif part == "open_book":
    limits = ingest.limits_from(profile)
    for f in files:
        open_book(f, limits)
elif part == "prepare_file":
    for f in files:
        ingest.prepare_file(f, profile).pack()
else:
    from carestats.store import Store
    packed = pickle.loads((scratch / "prepared.pickle").read_bytes())[:n]
    with Store.open(scratch / f"commit{n}.db") as store:
        for f, p in zip(files, packed):
            ingest.commit_prepared(store, ingest.Prepared.unpack(f, p))
"""


def instructions(part: str, folder: Path, n: int, scratch: Path) -> int:
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", PART]
        + [part, str(folder), str(n), str(scratch)],
        capture_output=True,
        text=True,
    )
    found = re.search(r"Collected : (\d+)", out.stderr)
    if out.returncode != 0 or not found:
        raise SystemExit(f"{part} failed:\n{out.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="a folder made by ingest_bench.py --keep")
    ap.add_argument("--files", type=int, default=200)
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")
    from carestats import ingest
    from carestats.profile import Profile

    scratch = Path(tempfile.mkdtemp(prefix="carestats-icount-"))
    files = sorted((args.folder / "returns").glob("*.xlsx"))[1 : 1 + args.files]
    profile = Profile.load(args.folder / "profile")
    packed = [ingest.prepare_file(f, profile).pack() for f in files]
    (scratch / "prepared.pickle").write_bytes(pickle.dumps(packed))
    print(f"instructions per file (thousands), {len(files)} 表一 returns from {args.folder}")
    for part in ("floor", "open_book", "prepare_file", "commit_prepared"):
        per = instructions(part, args.folder, len(files), scratch) - instructions(
            part, args.folder, 0, scratch
        )
        print(f"{part:<16}{per / len(files) / 1000:>10.0f}")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
