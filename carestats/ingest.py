"""Paths → files → one transaction per file in the store.

``prepare_file`` (read, find the return, parse the values) touches no store and can run in a worker process;
``commit_prepared`` writes one prepared file in one transaction. A bad file is refused with a Chinese
message and never damages what is already stored; one bad file does not stop the others.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from carestats.errors import CarestatsError, os_reason
from carestats.layout import (
    LayoutError,
    Record,
    SheetReturn,
    elsewhere_note,
    has_return_header,
    header_hint,
    is_instruction_sheet,
    read_sheet,
)
from carestats.profile import Profile
from carestats.reader import SPREADSHEET_SUFFIXES, Limits, ReadError, Sheet, iter_files, open_book
from carestats.store import (
    AlreadyStored,
    Conflict,
    NewValue,
    OldVersion,
    Store,
    Submission,
    WouldDrop,
    when,
)
from carestats.values import BLANK, FORMULA_EMPTY, PROBLEM_TITLES, decimal_text

STORED, UNCHANGED, REFUSED, SKIPPED = "stored", "unchanged", "refused", "skipped"
WOULD_DROP = "would-drop"  # refusal code: the replacement would leave other units without figures
# value cells that hold no figure typed by anyone: a return made only of them is a blank form sent by mistake
_NOTHING_FILLED = (BLANK, FORMULA_EMPTY)


@dataclass(slots=True)
class CellProblem:
    """A value cell that could not be read; the file still lands so that check can show all problems."""

    file: str
    sheet: str
    cell: str
    unit: str
    code: str
    problem: str
    raw: str
    detail: str

    @property
    def message(self) -> str:
        return f"{self.file} {self.sheet}!{self.cell}({self.unit} {self.code}):{self.detail}"


@dataclass(slots=True)
class FileResult:
    """What became of one file (slots: a province-wide batch keeps one for each of thousands of files)."""

    path: Path
    status: str
    message: str = ""
    filer: str = ""
    table: str = ""
    year: int | None = None
    values: int = 0
    units: list[str] = field(default_factory=list)
    problems: list[CellProblem] = field(default_factory=list)
    superseded: list[Submission] = field(default_factory=list)
    code: str = ""  # refusal code (reader/layout/conflict) for tests and JSON
    trace: str = ""  # the technical traceback of a refusal, shown only with --debug

    @property
    def ok(self) -> bool:
        return self.status in (STORED, UNCHANGED, SKIPPED) and not self.problems


@dataclass
class Prepared:
    """A file read and parsed, ready for its transaction: plain strings and tuples, cheap to send between
    processes (a big batch is prepared in workers and written by the parent)."""

    path: Path
    file_path: str  # absolute: check --annotate finds the original from any folder
    sha256: str
    sheet: str
    table: str
    filer: str
    year: int
    values: list[tuple]  # NewValue fields as plain tuples: a third of the pickling cost of named tuples

    def pack(self) -> tuple:
        """Everything but the path, which the parent already holds."""
        return (self.file_path, self.sha256, self.sheet, self.table, self.filer, self.year, self.values)

    @classmethod
    def unpack(cls, path: Path, packed: tuple) -> Prepared:
        return cls(path, *packed)


def limits_from(profile: Profile) -> Limits:
    d = Limits()
    return Limits(
        max_file_mb=profile.limit("max_file_mb", d.max_file_mb),
        max_uncompressed_mb=profile.limit("max_uncompressed_mb", d.max_uncompressed_mb),
        max_cells=profile.limit("max_cells", d.max_cells),
    )


def prepare_file(
    path: Path, profile: Profile, year: int | None = None, *, blank_form: bool = False
) -> Prepared | FileResult:
    """Read one file into a return, or a refused FileResult saying why. Never touches the store.
    A return with no figure at all is refused, unless ``blank_form`` (``carestats form`` reading what it wrote)."""
    try:
        book = open_book(path, limits_from(profile))
        shown = [s for s in book.sheets if s.visible]
        sheets = [s for s in shown if not is_instruction_sheet(s)]
        found, other_years = _read_sheets(sheets, profile, path.name, year)
        if not found and not other_years:
            # a return sheet renamed 说明, 目录(2) …: the sheets named like instructions are read only when no
            # other sheet holds a return, so a real 填报说明 never competes with the return beside it
            named = [s for s in shown if is_instruction_sheet(s)]
            found, other_years = _read_sheets(named, profile, path.name, year)
        if not found and other_years:
            raise other_years[0]
        if not found:
            _refuse_hidden(book.sheets, profile, path.name)
            example = year or profile.year
            hints = [h for s in sheets if (h := header_hint(s, example))]
            if hints:
                raise LayoutError(
                    f"{path.name}:没有找到可识别的报表:{hints[0]}。请改正表头后重新汇入", code="no-return"
                )
            raise LayoutError(
                f"{path.name}:没有找到可识别的报表(各工作表都没有“指标名称/{example}年”"
                "或“乡镇”表头)。请确认这是本年度的统计报表",
                code="no-return",
            )
        if len(found) > 1:
            names = "、".join(f"“{r.sheet}”" for r in found)
            years = sorted({r.year for r in found})
            hint = (
                f";若其中有往年的表,可加 --year {years[-1]} 只汇入这一年的"
                if len(years) == len(found)
                else ""
            )
            raise LayoutError(
                f"{path.name}:有多个工作表({names})都像报表,无法确定以哪一个为准。"
                f"请删除多余的工作表(如“Sheet1 (2)”副本)后重新汇入{hint}",
                code="several-returns",
            )
        ret = found[0]
        if not blank_form and ret.records and all(r[3][2] in _NOTHING_FILLED for r in ret.records):
            # a blank form sent by mistake: stored, it would hold the unit's place and refuse the real return
            formulas = sum(r[3][2] == FORMULA_EMPTY for r in ret.records)
            of_them = f",其中 {formulas} 个是计算结果为空白的公式" if formulas else ""
            # this year's figures typed into the 上年数 or 备注 column leave the value column empty
            moved = (
                f"但 {elsewhere_note(ret.elsewhere)}:若那是本年的数,请移到本年数一列;若是上年的数(如 carestats form 预先填好的上年数),请填写本年数;改正后重新报送"
                if ret.elsewhere
                else "请确认是否发错了文件;填好后重新报送"
            )
            raise LayoutError(
                f"{path.name}:这是一份没有填写的空白报表(工作表“{ret.sheet}”的 {len(ret.records)} 个数值单元格都是空的"
                f"{of_them}),文件未汇入。{moved}",
                code="blank-return",
            )
        return Prepared(
            path,
            os.path.abspath(path),  # not resolve(): that costs a stat per folder level for every file
            book.sha256,
            ret.sheet,
            ret.table,
            ret.filer,
            ret.year,
            _new_values(ret.records),
        )
    except ReadError as exc:
        return FileResult(path, REFUSED, exc.message, code=exc.code, trace=traceback.format_exc())
    except LayoutError as exc:
        return FileResult(path, REFUSED, exc.message, code=exc.code, trace=traceback.format_exc())
    except OSError as exc:
        return FileResult(
            path,
            REFUSED,
            f"{path.name}:无法读取文件({os_reason(exc)})。请检查文件",
            code="os",
            trace=traceback.format_exc(),
        )


def _read_sheets(
    sheets: list[Sheet], profile: Profile, file_name: str, year: int | None
) -> tuple[list[SheetReturn], list[LayoutError]]:
    """The returns the sheets hold, and the refusals of returns of another year than ``year``."""
    found: list[SheetReturn] = []
    other_years: list[LayoutError] = []
    for sheet in sheets:
        try:
            ret = read_sheet(sheet, profile, file_name, year)
        except LayoutError as exc:
            if exc.code != "other-year":
                raise
            other_years.append(exc)  # another year's return kept in the workbook: not this --year's
            continue
        if ret is not None:
            found.append(ret)
    return found, other_years


def _refuse_hidden(sheets: list[Sheet], profile: Profile, file_name: str) -> None:
    """A workbook whose only return is on a hidden sheet: hidden sheets are never read (an old copy, a draft),
    so say which one it is and how to show it, rather than that the file holds no return."""
    hidden = [s for s in sheets if not s.visible and has_return_header(s, profile)]
    if not hidden:
        return
    names = "、".join(f"“{s.name}”" + ("(深度隐藏)" if s.very_hidden else "") for s in hidden)
    how = []
    if plain := "、".join(f"“{s.name}”" for s in hidden if not s.very_hidden):
        how.append(f"在 WPS/Excel 中右键任一工作表标签→“取消隐藏”→选中{plain}→确定")
    if very := "、".join(f"“{s.name}”" for s in hidden if s.very_hidden):
        how.append(
            f"在 Excel 中按 Alt+F11 打开 VBA 编辑器,在左侧选中{very},把属性窗口中的 Visible 改为“-1 - xlSheetVisible”"
            "(深度隐藏的工作表在“取消隐藏”的列表里看不到;WPS 没有 VBA 时,可把报表复制到一个显示的工作表中)"
        )
    raise LayoutError(
        f"{file_name}:报表在隐藏的工作表{names}中,隐藏的工作表不会汇入(可能是旧表或草稿)。"
        f"若它就是要报送的报表,请{';'.join(how)},保存后重新汇入",
        code="hidden-sheet",
    )


def _new_values(records: list[Record]) -> list[tuple]:
    """Rows in the order of ``store.NewValue`` (unit, code, role, value, raw, problem, detail, sheet, cell).
    No value, problem or detail is "" rather than None: the store binds "" faster and keeps NULL."""
    return [
        (
            unit,
            code,
            role,
            "" if value is None else decimal_text(value),
            raw,
            problem or "",
            detail or "",
            sheet,
            cell,
        )
        for unit, code, role, (value, raw, problem, detail), sheet, cell in records
    ]


def commit_prepared(
    store: Store,
    prep: Prepared,
    *,
    replace: bool = False,
    this_run: set[int] | None = None,
    cover: Mapping[tuple[int, str], frozenset[str]] | None = None,
) -> FileResult:
    """Store one prepared file in its transaction. ``this_run`` holds the submissions stored so far in the same
    run: they are never replaced by a later file of the run, and the new one is added to them. ``cover``: by
    (year, table), units other files of the run bring (see ``Store.add_submission``)."""
    path = prep.path
    base = FileResult(
        path,
        STORED,
        filer=prep.filer,
        table=prep.table,
        year=prep.year,
        units=sorted({v[0] for v in prep.values if v[2] == "value"}),
    )
    try:
        new_id, superseded = store.add_submission(
            file_name=path.name,
            file_path=prep.file_path,
            sha256=prep.sha256,
            filer=prep.filer,
            table=prep.table,
            year=prep.year,
            sheet=prep.sheet,
            values=prep.values,
            replace=replace,
            keep=this_run if this_run is not None else frozenset(),
            cover=cover,
        )
    except AlreadyStored as exc:
        base.status = UNCHANGED
        base.message = f"{path.name}:与已汇入的 {exc.submission.file_name} 内容完全相同,未重复汇入"
        return base
    except OldVersion as exc:
        base.status = UNCHANGED
        base.message = _old_version_message(path.name, exc)
        return base
    except WouldDrop as exc:
        sub = exc.submission
        mine = f"(本文件只有 {'、'.join(base.units)})" if 0 < len(base.units) <= 3 else ""
        return FileResult(
            path,
            REFUSED,
            f"{path.name}:不能替换 {sub.file_name}(汇入于 {when(sub.ingested_at)}):它还有 {'、'.join(exc.units)} "
            f"的数据,本文件中没有{mine};替换后这些单位 {prep.year} 年{prep.table}将没有有效数据。"
            f"请在 {sub.file_name} 中改正后用 --replace 重新汇入整份文件,或让报送单位补齐后重新报送",
            filer=prep.filer,
            table=prep.table,
            year=prep.year,
            code=WOULD_DROP,
        )
    except Conflict as exc:
        holders: dict[int, tuple[Submission, list[str]]] = {}
        for unit, code, sub in exc.clashes:
            holders.setdefault(sub.id, (sub, []))[1].append(f"{unit} {code}")
        parts = []
        for sub, keys in holders.values():
            shown = "、".join(keys[:3]) + (f" 等 {len(keys)} 项" if len(keys) > 3 else "")
            parts.append(f"{shown}已由 {sub.file_name}(汇入于 {when(sub.ingested_at)})提供")
        if this_run is not None and any(sub.id in this_run for _u, _c, sub in exc.clashes):
            advice = (
                "。这几份文件是这一次一起汇入的,无法确定以哪一份为准(--replace 不会用后一份替换前一份);"
                "请只保留正确的一份,再重新汇入"
            )
        else:
            advice = "。同一单位同一年度同一指标只能有一个有效数;如确需用本文件替换,请加 --replace(原文件保留在历史中)"
        return FileResult(
            path,
            REFUSED,
            f"{path.name}:{prep.year} 年的" + ";".join(parts) + advice,
            filer=prep.filer,
            table=prep.table,
            year=prep.year,
            code="conflict",
        )
    if this_run is not None:
        this_run.add(new_id)
    base.values = len(prep.values)
    base.superseded = superseded
    base.problems = [
        CellProblem(
            path.name,
            v.sheet,
            v.cell,
            v.unit,
            v.code,
            v.problem,
            v.raw,
            v.detail or PROBLEM_TITLES.get(v.problem, v.problem),
        )
        for v in (NewValue._make(r) for r in prep.values if r[5])  # r[5]: the problem code
    ]
    if superseded:
        base.message = "替换了 " + "、".join(s.file_name for s in superseded) + "(原文件保留在历史中)"
    return base


def _old_version_message(name: str, exc: OldVersion) -> str:
    """A file whose bytes were stored and replaced since: which version is in force, and how to go back on
    purpose (a copy saved again has other bytes)."""
    old, current = exc.submission, exc.current
    same = "" if old.file_name == name else f"与 {old.file_name} 内容完全相同,"
    return (
        f"{name}:是已被替换的旧版本({same}汇入于 {when(old.ingested_at)},{when(exc.superseded_at)} 被替换),"
        f"未汇入;现在有效的是 {current.file_name}(汇入于 {when(current.ingested_at)})。"
        "如确要改回这份旧报表的数字,请在 WPS/Excel 中打开它另存一份,再用 --replace 汇入另存的文件"
    )


def collect(paths: Iterable[Path]) -> tuple[list[Path], list[FileResult]]:
    """Files to ingest, and notes for what is not read: files in folders that are not spreadsheets, named files
    that do not exist, folders that cannot be listed."""
    files: list[Path] = []
    skipped: list[FileResult] = []
    for path, explicit, unlisted in iter_files(list(paths)):
        if unlisted is not None:
            skipped.append(
                FileResult(
                    path,
                    REFUSED,
                    f"{path}:无法打开这个文件夹({unlisted}),其中的报表没有汇入。请检查文件夹的访问权限后重新汇入",
                    code="unreadable-folder",
                )
            )
        elif explicit and not path.exists():  # a file found in a folder exists: no second look
            skipped.append(FileResult(path, REFUSED, f"{path}:文件不存在。请检查路径", code="missing"))
        elif explicit or path.suffix.lower().strip() in SPREADSHEET_SUFFIXES:  # “x.xlsx ” from an e-mail
            files.append(path)
        else:
            skipped.append(FileResult(path, SKIPPED, f"{path.name}:不是电子表格,已跳过"))
    return files, skipped


# None: the platform's way to start workers: fork on Linux; spawn on Windows (where clerks run carestats)
# and macOS, which starts each worker as a new Python that imports carestats and receives the profile.
# Tests run both.
START_METHOD: str | None = None
# Below these many files, starting workers costs more than it saves. Measured on the 2-core development
# machine: forked workers pay off from about 64 returns; spawned ones add about 0.4 s, and a batch of 256
# returns still took longer with them (0.94 s) than in one process (0.74 s).
POOL_MIN_FILES = 64
POOL_MIN_FILES_SPAWN = 500
CHUNK_FILES = 16  # files a worker is handed at a time


_WORKER: tuple[Profile, int | None] | None = None


def _init_worker(profile: Profile, year: int | None) -> None:
    global _WORKER
    _WORKER = (profile, year)  # sent once per worker, not once per file


def _prepare_in_worker(path: Path) -> tuple | FileResult:
    assert _WORKER is not None
    prep = prepare_file(path, *_WORKER)
    return prep.pack() if isinstance(prep, Prepared) else prep


def _prepared(
    files: list[Path], profile: Profile, year: int | None, workers: int
) -> Iterator[Prepared | FileResult]:
    """Prepared files in order: in this process, or for a big batch in worker processes (store-free work)."""
    context = None
    if workers > 1 and len(files) >= POOL_MIN_FILES:
        import multiprocessing

        context = multiprocessing.get_context(START_METHOD)
        if context.get_start_method() != "fork" and len(files) < POOL_MIN_FILES_SPAWN:
            context = None
    if context is None:
        for path in files:
            yield prepare_file(path, profile, year)
        return
    with context.Pool(workers, _init_worker, (profile, year)) as pool:
        for path, out in zip(files, pool.imap(_prepare_in_worker, files, chunksize=CHUNK_FILES), strict=True):
            yield out if isinstance(out, FileResult) else Prepared.unpack(path, out)


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def ingest_paths(
    store: Store,
    profile: Profile,
    paths: Iterable[Path],
    *,
    year: int | None = None,
    replace: bool = False,
    on_file: Callable[[FileResult], None] | None = None,
    workers: int | None = None,
) -> list[FileResult]:
    """Ingest files and folders (recursively). Returns one result per file, in order."""
    files, skipped = collect(paths)
    return ingest_files(
        store, profile, files, skipped, year=year, replace=replace, on_file=on_file, workers=workers
    )


def ingest_files(
    store: Store,
    profile: Profile,
    files: list[Path],
    skipped: list[FileResult] | None = None,
    *,
    year: int | None = None,
    replace: bool = False,
    on_file: Callable[[FileResult], None] | None = None,
    workers: int | None = None,
) -> list[FileResult]:
    """Ingest the files ``collect`` found (``skipped`` are its notes, reported first).

    Reading and parsing run in ``workers`` processes for big batches; every write happens here, one
    transaction per file, in the order of the files.
    """
    results = list(skipped or [])
    this_run: set[int] = set()
    # files whose replacement would leave units of the replaced file without figures: tried again at the end,
    # when the other files of the run may bring those units (the townships' own returns replacing, together,
    # a county-compiled 表一)
    waiting: list[tuple[int, Prepared]] = []
    for prep in _prepared(files, profile, year, default_workers() if workers is None else workers):
        if isinstance(prep, FileResult):
            result = prep
        else:
            result = commit_prepared(store, prep, replace=replace, this_run=this_run)
            if result.code == WOULD_DROP:
                waiting.append((len(results), prep))
                results.append(result)
                continue
        results.append(result)
        if on_file:
            on_file(result)
    if waiting:
        # by year and table: a 表二 correction's township rows do not bring those townships' 表一 figures
        units: dict[tuple[int, str], set[str]] = {}
        for _i, prep in waiting:
            units.setdefault((prep.year, prep.table), set()).update(_units(prep))
        cover = {key: frozenset(u) for key, u in units.items()}
        groups: dict[tuple[int, str], list[tuple[int, Prepared]]] = {}
        for i, prep in waiting:
            groups.setdefault((prep.year, prep.table), []).append((i, prep))
        for group in groups.values():
            for i, result in _commit_together(store, group, replace, this_run, cover):
                results[i] = result
                if on_file:
                    on_file(result)
    return results


class _NotAll(Exception):
    """A file of a group that must land together was refused: the group's transaction is rolled back."""


def _commit_together(
    store: Store,
    group: list[tuple[int, Prepared]],
    replace: bool,
    this_run: set[int],
    cover: Mapping[tuple[int, str], frozenset[str]],
) -> list[tuple[int, FileResult]]:
    """Files that only together hold every unit of the submissions they replace, stored in one transaction:
    all of them, or (one refused) none, so that a replaced table's units are never left without figures."""
    before = set(this_run)
    done: list[tuple[int, FileResult]] = []
    try:
        with store.together(group[0][1].path.name):
            for i, prep in group:
                done.append(
                    (i, commit_prepared(store, prep, replace=replace, this_run=this_run, cover=cover))
                )
            if any(r.status not in (STORED, UNCHANGED) for _i, r in done):
                raise _NotAll
    except _NotAll:
        this_run.intersection_update(before)  # their submissions were rolled back
        refused = [r.path.name for _i, r in done if r.status not in (STORED, UNCHANGED)]
        # what the group was to replace, whichever of its files got to supersede it inside the transaction
        replaced = (
            "、".join(dict.fromkeys(s.file_name for _i, r in done for s in r.superseded)) or "已汇入的报表"
        )
        out = []
        for i, r in done:
            if r.status == STORED:
                others = [p.path.name for _j, p in group if p.path.name != r.path.name]
                r = FileResult(
                    r.path,
                    REFUSED,
                    f"{r.path.name}:要与同一次汇入的 {'、'.join(others)} 一起替换 {replaced}(合起来才有其中所有单位),"
                    f"但其中 {'、'.join(refused)} 被拒收(见其说明),为免这些单位的数据丢失,这一组文件都没有汇入。"
                    "请处理被拒收的文件后,把这一组文件一起用 --replace 重新汇入",
                    filer=r.filer,
                    table=r.table,
                    year=r.year,
                    code=WOULD_DROP,
                )
            out.append((i, r))
        return out
    return done


def _units(prep: Prepared) -> set[str]:
    return {v[0] for v in prep.values if v[2] == "value"}


def exit_code(results: list[FileResult]) -> int:
    return 0 if all(r.ok for r in results) else 1


__all__ = [
    "CarestatsError",
    "FileResult",
    "ingest_paths",
    "ingest_files",
    "prepare_file",
    "commit_prepared",
    "exit_code",
]
