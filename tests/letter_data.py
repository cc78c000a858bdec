"""Data for the letter tests: the seed letter, its figures, and a made-up year whose every figure differs.

The made-up year's returns are real .xlsx files in the layouts of the 2025 returns (``tests.workbooks``),
built from the 2025 values by a monotone change (counts 2v+3, money 2v+1000, H02 40 lower) that keeps the 审核关系 true:
“其中” rows stay below their parents, each township's B05 stays 0 or 1, F03 is recomputed from C01 and C10,
and 表二's rates and 合计 row are recomputed.
"""

from __future__ import annotations

import re
import tomllib
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from tests.workbooks import SHARED, TOWNSHIPS, catalogue, expected_2025, write_table1, write_table2

ROOT = Path(__file__).resolve().parents[1]
SEED = SHARED / "seed" / "reply-letter-2025-57.txt"
SPEC_2025 = ROOT / "data" / "examples" / "letters" / "2025-57.toml"
GOLDEN = Path(__file__).resolve().parent / "golden"

# A figure as the letter writes it: digits, an optional decimal part, an optional 余, a unit word.
UNIT_WORDS = ("万元", "元", "%", "人次", "场次", "人", "名", "次", "个", "所", "张", "份", "家")
FIGURE = re.compile(r"\d+(?:\.\d+)?余?(?:" + "|".join(map(re.escape, UNIT_WORDS)) + ")")
HALF_WIDTH = str.maketrans({"，": ",", "：": ":", "；": ";", "（": "(", "）": ")"})


def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


def seed_letter_lines() -> list[str]:
    """The letter's own lines in the seed, from the title to the thanks (the web page's chrome dropped)."""
    lines = seed_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.endswith("答复函") and "关于" in line)
    end = next(i for i, line in enumerate(lines) if line.startswith("感谢"))
    return lines[start : end + 1]


def figures_in(text: str) -> list[str]:
    """Every figure (number + unit word) in a text, in order."""
    return FIGURE.findall(text)


def made_up_values() -> dict[str, dict[str, Any]]:
    """Unit → code → value for the made-up year (see the module docstring)."""
    exp = expected_2025()["units"]
    kinds = {r["指标代码"]: r["类型"] for r in catalogue()}
    out: dict[str, dict[str, Any]] = {}
    for unit, values in exp.items():
        new: dict[str, Any] = {}
        for code, v in values.items():
            if code == "H03":
                continue
            if kinds[code] == "money":
                new[code] = int(Decimal(str(v)) * 2 + 1000)
            else:
                new[code] = int(v) * 2 + 3
        out[unit] = new
    for i, unit in enumerate(TOWNSHIPS):
        out[unit]["B05"] = 1 if i < 6 else 0
        out[unit]["H02"] -= 40  # so that the county rate moves too
        out[unit]["H03"] = rate(out[unit]["H02"], out[unit]["H01"])
    out["县妇联"]["F03"] = sum(out[u]["C01"] + out[u]["C10"] for u in TOWNSHIPS)
    return out


def rate(num: int, den: int) -> Decimal:
    return (Decimal(num) / Decimal(den) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def write_year_returns(folder: Path, year: int, values: dict[str, dict[str, Any]]) -> list[Path]:
    """The thirteen returns of ``year`` as .xlsx files, one per township and department."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for unit in TOWNSHIPS:
        vals = {k: v for k, v in values[unit].items() if not k.startswith("H")}
        paths.append(write_table1(folder / f"{unit}{year}年一老一小统计表.xlsx", unit, year, values=vals))
    rows = {u: {c: values[u][c] for c in ("H01", "H02", "H03", "H04")} for u in TOWNSHIPS}
    total = {c: sum(r[c] for r in rows.values()) for c in ("H01", "H02", "H04")}
    total["H03"] = rate(total["H02"], total["H01"])
    rows = {u: {**r, "H03": float(r["H03"])} for u, r in rows.items()}  # typed as a clerk types 98.58
    total["H03"] = float(total["H03"])
    paths.append(write_table2(folder / f"县卫健局{year}年老年人健康管理情况表.xlsx", rows, total, year))
    for unit, table in (("县民政局", "表三"), ("县妇联", "表四"), ("县教育局", "表五")):
        paths.append(
            write_table1(
                folder / f"{unit}{year}年情况表.xlsx",
                unit,
                year,
                values=values[unit],
                table=table,
                filer=unit,
            )
        )
    return paths


def county_totals(values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    totals: dict[str, Any] = {}
    for unit_values in values.values():
        for code, v in unit_values.items():
            if code != "H03":
                totals[code] = totals.get(code, 0) + v
    totals["H03"] = rate(totals["H02"], totals["H01"])
    return totals


def spec_for_year(tmp: Path, year: int, number: int = 12) -> Path:
    """The seed's spec moved to another year: same member and proposal, that year's 文号 and dates."""
    text = SPEC_2025.read_text(encoding="utf-8")
    text = text.replace("year = 2025", f"year = {year}")
    text = text.replace("绿民函〔2025〕83号", f"绿民函〔{year}〕{number}号")
    text = text.replace("2025-12-26", f"{year}-11-30")
    text = text.replace("lcxmzj/2026-00004", f"lcxmzj/{year + 1}-00001")
    path = tmp / f"{year}-57.toml"
    path.write_text(text, encoding="utf-8")
    assert tomllib.loads(text)["year"] == year
    return path
