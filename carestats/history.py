"""``carestats history``: the submissions the store holds, superseded ones too, as a clerk reads them.

The query is ``Store.history`` (typed ``HistoryEntry``s); here they become rows with Chinese headings (the
table and the CSV), and JSON with English keys as figures' JSON has.
"""

from __future__ import annotations

import csv
import io

from carestats.figures import safe_cell_text
from carestats.store import HistoryEntry, when

STATUS_TEXT = {"active": "有效", "superseded": "已被替换"}
HEADINGS = (
    "序号",
    "文件",
    "报送单位",
    "表",
    "年度",
    "汇入时间",
    "状态",
    "被替换为",
    "替换时间",
    "数值个数",  # how many figures the file gave; 数值 alone reads as a figure of 29
    "文件位置",
)


def rows(entries: list[HistoryEntry]) -> list[dict[str, str]]:
    """One row per submission under ``HEADINGS``, oldest first as given."""
    return [
        {
            "序号": str(e.id),
            "文件": e.file_name,
            "报送单位": e.filer,
            "表": e.table,
            "年度": str(e.year),
            "汇入时间": when(e.ingested_at),
            "状态": STATUS_TEXT.get(e.status, e.status),
            "被替换为": e.superseded_by_file or "",
            "替换时间": when(e.superseded_at),
            "数值个数": str(e.values),
            "文件位置": e.file_path,
        }
        for e in entries
    ]


def to_json(entries: list[HistoryEntry], year: int | None, filer: str | None) -> dict:
    return {"year": year, "unit": filer, "submissions": [e.to_json() for e in entries]}


def write_csv(entries: list[HistoryEntry]) -> str:
    """UTF-8 with a BOM and CRLF, as figures' CSV, so that WPS/Excel open it; no text is read as a formula."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(HEADINGS), lineterminator="\r\n")
    writer.writeheader()
    for row in rows(entries):
        writer.writerow({k: safe_cell_text(v) for k, v in row.items()})
    return "\ufeff" + buf.getvalue()
