"""Blank returns for a year, generated from the profile, so that what comes back reads without guessing.

A township that fills in a form carestats wrote (named for it and the year, with the codes, one header
row, Excel's own input checks and only the value cells unlocked) cannot rename, retype or reshape it
by accident. Layout follows the county's own form: 表号, title, 填报单位 / 填报日期, the header, section
rows, the indicators, the signature line. A table whose rows are townships (表二) gets one row per
township instead of one per indicator. All printed text comes from the profile (``form.toml``).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from carestats.errors import ProfileError, UsageError, os_reason, writing
from carestats.layout import FOOTER_PREFIXES
from carestats.profile import Indicator, Profile, Table, TomlLines, Unit, read_toml, unknown_keys
from carestats.rules import RULES_FILE, load_rules
from carestats.store import Store
from carestats.text import squash

FORM_FILE = "form.toml"
SHEET = "统计表"
NOTES_SHEET = "填报说明"
PRIOR_HEADER = "上年数"

# (unit, code) → last year's value; None where the store holds the cell but could not read a number.
Prior = Mapping[tuple[str, str], Decimal | None]
# The 填报单位 line must start with one of these for the ingest to take the unit from it (layout._metadata).
FILER_PREFIXES = ("填报单位", "报送单位", "单位名称")

# Looks: 宋体 and 黑体 are on every Windows/WPS machine; LibreOffice substitutes a CJK font.
BODY_FONT = "宋体"
TITLE_FONT = "黑体"
THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="F2F2F2")
PRIOR_FILL = PatternFill("solid", fgColor="D9D9D9")
UNLOCKED = Protection(locked=False)
NUMBER_FORMATS = {"count": "#,##0", "money": "#,##0.00", "rate": "0.00"}
_PLACES = {1: "一位", 2: "两位", 3: "三位", 4: "四位"}


def number_format(ind: Indicator) -> str:
    """The cell's display format with the indicator's own decimals (an area in 亩 with one shows 36.5,
    not 37): the catalogue says how many, not the kind."""
    base = NUMBER_FORMATS[ind.kind]
    whole = base.split(".", 1)[0]
    return whole + ("." + "0" * ind.decimals if ind.decimals > 0 else "")


def _places(decimals: int) -> str:
    return _PLACES.get(decimals, f" {decimals} 位")


_BAD_FILENAME = re.compile(r'[\\/:*?"<>|\r\n\t]')


# ---------------------------------------------------------------------- printed text
@dataclass(frozen=True)
class FormText:
    """What ``form.toml`` says: title patterns, the fill-in lines, 填报说明 and 审核关系."""

    title: str
    titles: dict[str, str]
    filer: str
    date: str
    footer: str
    wide_note: str
    instructions: tuple[str, ...]
    how_to_fill: tuple[str, ...]
    rules: tuple[tuple[str, str], ...]  # (mark, text): “3.” for the printed list, a rule id from rules.toml

    @classmethod
    def load(cls, profile: Profile) -> FormText:
        path = profile.path / FORM_FILE
        data = read_toml(
            path,
            missing=f"无法生成报表。请从自带配置(carestats init 新目录)中复制一份 {FORM_FILE}。",
        )
        toml = _FormToml(path, data)
        titles = toml.section("titles")
        for table_id in titles:
            if table_id not in profile.tables:
                raise toml.error(
                    toml.key_line(table_id, toml.header_line("titles", 1, double=False)),
                    f"[titles] 中有未知表号“{table_id}”(可用的表号:{'、'.join(profile.tables)})",
                )
        text = toml.section("text", FORM_KEYS["text"])
        notes = toml.section("notes", FORM_KEYS["notes"])
        form_text = cls(
            title=toml.pattern(data, "title", TITLE_FIELDS),
            titles={tid: toml.pattern(titles, tid, TITLE_FIELDS, "titles") for tid in titles},
            filer=toml.pattern(text, "filer", ("unit",), "text"),
            date=toml.string(text, "date", "text"),
            footer=toml.string(text, "footer", "text"),
            wide_note=toml.string(text, "wide_note", "text", required=False),
            instructions=toml.strings(notes, "instructions"),
            how_to_fill=toml.strings(notes, "how_to_fill"),
            rules=_rules_text(profile)
            or tuple((f"{i}.", line) for i, line in enumerate(toml.strings(notes, "rules"), start=1)),
        )
        if not squash(form_text.filer).startswith(FILER_PREFIXES):
            raise ProfileError(
                f"配置文件 {path} 中 filer 一行应以“填报单位”开头(如“填报单位(盖章):{{unit}}”),"
                "否则汇入时认不出填报单位。"
            )
        return form_text

    @property
    def note(self) -> str:
        """The line under a one-row-per-township table; it starts with 注 so that the ingest stops there."""
        note = self.wide_note.strip()
        if note and not squash(note).startswith(FOOTER_PREFIXES):
            note = "注:" + note
        return note


FORM_KEYS = {
    "": ("title", "titles", "text", "notes"),
    "text": ("filer", "date", "footer", "wide_note"),
    "notes": ("instructions", "how_to_fill", "rules"),
}
TITLE_FIELDS = ("county", "unit", "year", "name")
_SAMPLE = {"county": "绿春县", "unit": "大兴镇", "year": 2026, "name": "表名"}


class _FormToml(TomlLines):
    """form.toml checked key by key: a mistake names the file, the line, the section and the key."""

    def __init__(self, path: Path, data: dict):
        super().__init__(path)
        self.data = data
        self._known(data, FORM_KEYS[""], None, "")

    def error(self, line: int | None, text: str) -> ProfileError:
        return ProfileError(f"配置文件 {self.path}" + (f" 第 {line} 行" if line else "") + f":{text}。")

    def _known(self, data: dict, known: tuple[str, ...], start: int | None, what: str) -> None:
        problem = unknown_keys(data, known)
        if problem:
            key = next(k for k in data if k not in known)
            raise self.error(self.key_line(key, start) or start, what + problem)

    def _line(self, key: str, section: str) -> int | None:
        start = self.header_line(section, 1, double=False) if section else None
        return self.key_line(key, start) or start

    def section(self, key: str, known: tuple[str, ...] | None = None) -> dict:
        value = self.data.get(key, {})
        line = self.header_line(key, 1, double=False) or self.key_line(key, None)
        if not isinstance(value, dict):
            raise self.error(line, f"{key} 应写成 [{key}] 一节")
        if known is not None:
            self._known(value, known, line, f"[{key}] 中")
        return value

    def string(self, data: dict, key: str, section: str = "", *, required: bool = True) -> str:
        name = f"[{section}] 的 {key}" if section else key
        if key not in data and not required:
            return ""
        if key not in data:
            raise self.error(self._line(key, section), f"缺少 {name}(请对照自带配置补上)")
        if not isinstance(data[key], str):
            raise self.error(self._line(key, section), f"{name} 应为文字,用英文双引号括起来")
        return data[key]

    def strings(self, data: dict, key: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
            raise self.error(
                self._line(key, "notes"),
                f'[notes] 的 {key} 应写成 [ "第一条", "第二条", … ],每条用英文双引号括起来',
            )
        return tuple(value)

    def pattern(self, data: dict, key: str, fields: tuple[str, ...], section: str = "") -> str:
        """A text with placeholders: every placeholder known and every brace paired, or a ProfileError."""
        text = self.string(data, key, section)
        try:
            names = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
        except ValueError:
            problem = "花括号 { } 没有配对"
        else:
            unknown = [f for f in names if re.split(r"[.\[!:]", f, maxsplit=1)[0] not in fields]
            problem = f"没有占位 {{{unknown[0]}}}" if unknown else ""
            if not problem:
                try:
                    text.format(**{f: _SAMPLE[f] for f in fields})
                except (KeyError, IndexError, ValueError, AttributeError, TypeError):
                    problem = "花括号中的写法不对"
        if problem:
            name = f"[{section}] 的 {key}" if section else key
            places = "、".join(f"{{{f}}}" for f in fields)
            raise self.error(
                self._line(key, section),
                f"{name} “{text}”有误:{problem}。可用的占位只有 {places};要印出花括号本身,写 {{{{ 或 }}}}",
            )
        return text


_SOURCE_REF = re.compile(r"^(审核关系|填报说明)第\s*\d+\s*条[::]\s*")


def _rules_text(profile: Profile) -> tuple[tuple[str, str], ...]:
    """The 审核关系 as ``carestats check`` runs them, from the profile's rules.toml when it has one.

    Each ``[[rule]]`` prints as its id (the one check's findings cite), its label and its description,
    so that the form states exactly the rules the returns will be checked against.
    """
    if not (profile.path / RULES_FILE).is_file():
        return ()
    lines: list[tuple[str, str]] = []
    for rule in load_rules(profile):
        text = rule.label
        detail = _SOURCE_REF.sub("", rule.description).strip()
        if detail and detail.rstrip("。") != text:
            text += ":" + detail
        if rule.severity == "warning" and "提示" not in text:
            text += "(提示性审核)"
        lines.append((rule.id, text))
    return tuple(lines)


def rules_for_table(
    profile: Profile, table_id: str, rules: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The rules a table's filer needs: those that name none of the profile's codes or one of this table's."""
    codes = sorted(profile.indicators, key=len, reverse=True)
    pattern = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(map(re.escape, codes)) + r")(?![0-9])")
    own = {ind.code for ind in profile.table_indicators(table_id)}
    out = []
    for mark, text in rules:
        named = set(pattern.findall(text))
        if not named or named & own:
            out.append((mark, text))
    return out


# ---------------------------------------------------------------------- what to write
@dataclass(frozen=True)
class FormJob:
    """One workbook: a table as one unit files it for one year."""

    table: Table
    unit: Unit
    year: int
    county: str
    text: FormText = field(repr=False)

    @property
    def wide(self) -> bool:
        """One row per township (表二) rather than one row per indicator."""
        return self.table.about == "乡镇"

    @property
    def title(self) -> str:
        pattern = self.text.titles.get(self.table.id, self.text.title)
        try:
            return pattern.format(
                county=self.county, unit=self.unit.name, year=self.year, name=self.table.name
            )
        except (KeyError, IndexError, ValueError) as exc:
            raise ProfileError(
                f"配置文件 {FORM_FILE} 中{self.table.id}的标题格式“{pattern}”有误:{exc}。"
                "可用的占位只有 {county}、{unit}、{year}、{name}。"
            ) from exc

    @property
    def filename(self) -> str:
        name = self.title
        if self.unit.name not in name:
            name = f"{name}({self.unit.name})"
        return _BAD_FILENAME.sub("_", name) + ".xlsx"


def plan_forms(
    profile: Profile,
    year: int,
    *,
    table: str | None = None,
    unit: str | None = None,
    all_units: bool = False,
) -> list[FormJob]:
    """Which (table, unit) forms a command asks for; a name the profile does not know is a UsageError."""
    if unit and all_units:
        raise UsageError("--unit 和 --all 只能选一个:为一个单位生成用 --unit,为全部单位生成用 --all。")
    if not unit and not all_units and not table:
        # the example is the profile's own first unit, never another county's
        example = next(iter(profile.units), "单位名称")
        raise UsageError(
            f"请用 --unit 指定单位(如 --unit {example}),或用 --all 为全部单位生成,或用 --table 指定表号。"
        )
    if year < 1900 or year > 9999:
        raise UsageError(f"年度 {year} 不对,请写四位年份,如 --year 2026。")
    if table is not None and table not in profile.tables:
        raise UsageError(f"没有表号“{table}”。可用的表号:{'、'.join(profile.tables)}。")
    units: list[Unit]
    if unit:
        name = profile.unit_named(unit)
        if name is None:
            raise UsageError(f"配置中没有单位“{unit}”。可用的单位:{'、'.join(profile.units)}。")
        units = [profile.units[name]]
    else:
        units = list(profile.units.values())
    text = FormText.load(profile)
    jobs: list[FormJob] = []
    for u in units:
        for table_id in u.tables:
            if table is not None and table_id != table:
                continue
            jobs.append(FormJob(profile.tables[table_id], u, year, profile.county, text))
    if not jobs:
        what = f"单位“{units[0].name}”不填报{table}" if unit else f"没有单位填报{table}"
        raise UsageError(f"{what}(见配置 units.csv 的“报送表”列)。")
    for job in jobs:
        if not profile.table_indicators(job.table.id):
            raise ProfileError(f"配置中{job.table.id}没有任何指标(见 indicators.csv 的“表号”列)。")
    return jobs


def prior_values(store: Store, year: int) -> dict[tuple[str, str], Decimal | None]:
    """A year's active values by (unit, code), for the 上年数 column; declared 合计 rows are left out."""
    return {(v.unit, v.code): v.value for v in store.active_values(year) if v.role == "value"}


@dataclass(frozen=True)
class WrittenForm:
    """A workbook written, with the cell each (unit, code) is to be filled in."""

    job: FormJob
    path: Path
    cells: dict[tuple[str, str], str]


def generate_forms(
    profile: Profile,
    jobs: Iterable[FormJob],
    out_dir: Path,
    prior: Prior | None = None,
    *,
    overwrite: bool = False,
) -> list[WrittenForm]:
    """Write each job's workbook into ``out_dir`` and read it back as the ingest would.

    An existing file is not overwritten unless asked: it may be a form a township already filled in.
    """
    jobs = list(jobs)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"输出位置 {out_dir} 是一个文件,不是文件夹;请用 -o 指定一个文件夹。")
    existing = [job.filename for job in jobs if (out_dir / job.filename).exists()]
    if existing and not overwrite:
        shown = "、".join(existing[:3]) + (f" 等 {len(existing)} 个文件" if len(existing) > 3 else "")
        raise UsageError(
            f"{out_dir} 中已有 {shown},没有生成任何报表。"
            "请换一个输出文件夹,或确认不再需要这些文件后加 --force 覆盖。"
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"无法创建输出文件夹 {out_dir}:{os_reason(exc)}。请换一个位置") from exc
    written = []
    for job in jobs:
        form = write_form(profile, job, out_dir / job.filename, prior or {})
        try:
            verify_form(profile, form)
        except ProfileError:
            form.path.unlink(missing_ok=True)  # never leave a form behind that would come back unreadable
            raise
        written.append(form)
    return written


def verify_form(profile: Profile, form: WrittenForm) -> None:
    """Read a written form as ``carestats ingest`` will: same table, unit and year, every value cell found.

    A profile whose form.toml wording the ingest cannot read (a title without the year, say) stops here,
    before a township is sent a form that would come back unreadable.
    """
    from carestats.ingest import Prepared, prepare_file

    job = form.job
    prep = prepare_file(form.path, profile, None, blank_form=True)
    if not isinstance(prep, Prepared):
        raise ProfileError(
            f"生成的报表 {form.path.name} 汇入时无法识别:{prep.message}。请检查配置文件 {FORM_FILE} 中的标题和文字。"
        )
    found = {(v[0], v[1]): v[8] for v in prep.values}  # (unit, code) → cell
    if (prep.table, prep.filer, prep.year) != (job.table.id, job.unit.name, job.year) or found != form.cells:
        raise ProfileError(
            f"生成的报表 {form.path.name} 汇入时读成了{prep.filer} {prep.year}年{prep.table}"
            f"({len(found)} 个数值格,应为{job.unit.name} {job.year}年{job.table.id}、{len(form.cells)} 个)。"
            f"请检查配置文件 {FORM_FILE} 中的标题和文字。"
        )


# ---------------------------------------------------------------------- writing
def write_form(profile: Profile, job: FormJob, path: Path, prior: Prior) -> WrittenForm:
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    if job.wide:
        cells = _write_wide(ws, profile, job, prior)
    else:
        cells = _write_long(ws, profile, job, prior)
    _write_notes(wb.create_sheet(NOTES_SHEET), profile, job)
    wb.active = 0
    wb.properties.title = job.title
    wb.properties.creator = "carestats"
    with writing(path):
        wb.save(path)
    return WrittenForm(job, path, cells)


def _style(cell: Cell, *, bold: bool = False, size: float = 11, h: str = "center", box: bool = True) -> Cell:
    cell.font = Font(name=BODY_FONT, size=size, bold=bold)
    indent = 1 if h in ("left", "right") and box else 0  # keep text and numbers off the grid lines
    cell.alignment = Alignment(horizontal=h, vertical="center", wrap_text=True, indent=indent)
    if box:
        cell.border = BOX
    return cell


def _heading(ws: Worksheet, job: FormJob, ncols: int) -> None:
    """Rows 1–3: 表号, title, 填报单位 and 填报日期."""
    last = get_column_letter(ncols)
    ws["A1"] = job.table.id
    ws["A1"].font = Font(name=TITLE_FONT, size=12)
    ws.merge_cells(f"A2:{last}2")
    ws["A2"] = job.title
    ws["A2"].font = Font(name=TITLE_FONT, size=16, bold=True)
    ws["A2"].alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[2].height = 42
    split = max(2, ncols // 2 + 1)
    ws.merge_cells(f"A3:{get_column_letter(split)}3")
    ws["A3"] = job.text.filer.format(unit=job.unit.name)
    date_col = get_column_letter(split + 1)
    ws.merge_cells(f"{date_col}3:{last}3")
    ws[f"{date_col}3"] = job.text.date
    for ref, h in (("A3", "left"), (f"{date_col}3", "right")):
        _style(ws[ref], h=h, box=False)
    ws[f"{date_col}3"].protection = UNLOCKED
    ws.row_dimensions[3].height = 24


def _header(ws: Worksheet, row: int, labels: list[str]) -> None:
    for col, label in enumerate(labels, start=1):
        cell = _style(ws.cell(row, col, label), bold=True)
        cell.fill = HEAD_FILL
    ws.row_dimensions[row].height = 30


def _value_cell(ws: Worksheet, row: int, col: int, ind: Indicator, dv: DataValidation) -> str:
    cell = _style(ws.cell(row, col), h="right")
    cell.number_format = number_format(ind)
    cell.protection = UNLOCKED
    dv.add(cell)
    return cell.coordinate


def _prior_cell(ws: Worksheet, row: int, col: int, ind: Indicator, value: Decimal | None) -> None:
    cell = _style(ws.cell(row, col, value), h="right")
    cell.number_format = number_format(ind)
    cell.fill = PRIOR_FILL
    cell.font = Font(name=BODY_FONT, size=11, color="404040")


def _footer(ws: Worksheet, row: int, ncols: int, text: str) -> None:
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)
    cell = _style(ws.cell(row, 1, text), h="left", box=False)
    cell.protection = UNLOCKED
    ws.row_dimensions[row].height = 24


def validation_for(ind: Indicator) -> DataValidation:
    """Excel's own input check for one indicator, with a Chinese prompt and error message."""
    places = _places(ind.decimals)
    if ind.kind == "count" and ind.decimals == 0:
        dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0")
        rule = f"请填写不小于 0 的整数,单位:{ind.unit}。"
    elif ind.kind == "count":  # an area in 亩 …: the catalogue gives it decimals
        dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
        rule = f"请填写不小于 0 的数,至多{places}小数,单位:{ind.unit}。"
    elif ind.kind == "money":
        dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
        rule = f"请填写不小于 0 的金额,单位:{ind.unit}(不要填万元),至多{places}小数。"
    else:
        dv = DataValidation(type="decimal", operator="between", formula1="0", formula2="100")
        example = format(Decimal("98.5").quantize(Decimal(1).scaleb(-ind.decimals)), "f")
        rule = f"请填写 0 至 100 之间的百分数,保留{places}小数,如 {example},不带 % 号。单位:{ind.unit}。"
    dv.allow_blank = False
    dv.showInputMessage = True
    dv.showErrorMessage = True
    dv.errorStyle = "stop"
    dv.promptTitle = ind.code
    dv.prompt = f"{ind.name}:{rule}无数据的填 0。"
    dv.errorTitle = "输入有误"
    dv.error = f"“{ind.name}”{rule}"
    return dv


def _write_long(ws: Worksheet, profile: Profile, job: FormJob, prior: Prior) -> dict[tuple[str, str], str]:
    """One indicator a row, under the table's section headings."""
    labels = ["序号", "指标代码", "指标名称", "计量单位", f"{job.year}年", PRIOR_HEADER, "备注"]
    ncols = len(labels)
    _heading(ws, job, ncols)
    _header(ws, 4, labels)
    sections = {s.first: s.title for s in job.table.sections}
    cells: dict[tuple[str, str], str] = {}
    row = 5
    for number, ind in enumerate(profile.table_indicators(job.table.id), start=1):
        if ind.code in sections:
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)
            _style(ws.cell(row, 1, sections[ind.code]), bold=True, h="left")
            for col in range(2, ncols + 1):
                ws.cell(row, col).border = BOX
            ws.row_dimensions[row].height = 22
            row += 1
        _style(ws.cell(row, 1, number))
        _style(ws.cell(row, 2, ind.code))
        _style(ws.cell(row, 3, ind.name), h="left")
        _style(ws.cell(row, 4, ind.unit))
        dv = validation_for(ind)
        ws.add_data_validation(dv)
        cells[(job.unit.name, ind.code)] = _value_cell(ws, row, 5, ind, dv)
        _prior_cell(ws, row, 6, ind, prior.get((job.unit.name, ind.code)))
        _style(ws.cell(row, 7), h="left").protection = UNLOCKED
        ws.row_dimensions[row].height = 22
        row += 1
    _footer(ws, row + 1, ncols, job.text.footer)
    widths = {"A": 6, "B": 9, "C": 40, "D": 9, "E": 15, "F": 13, "G": 14}
    _page(ws, widths, header_row=4, last_row=row + 1, landscape=False)
    return cells


def _write_wide(ws: Worksheet, profile: Profile, job: FormJob, prior: Prior) -> dict[tuple[str, str], str]:
    """One township a row (表二): each indicator a value column followed by its grey 上年数 column."""
    inds = profile.table_indicators(job.table.id)
    labels = ["序号", "乡镇"]
    for ind in inds:
        labels += [f"{ind.code} {ind.name}({ind.unit})", PRIOR_HEADER]
    labels.append("备注")
    ncols = len(labels)
    _heading(ws, job, ncols)
    _header(ws, 4, labels)
    ws.row_dimensions[4].height = 58
    validations = {ind.code: validation_for(ind) for ind in inds}
    for dv in validations.values():
        ws.add_data_validation(dv)
    cells: dict[tuple[str, str], str] = {}
    row = 5
    for number, township in enumerate(profile.townships(), start=1):
        _style(ws.cell(row, 1, number))
        _style(ws.cell(row, 2, township))
        for i, ind in enumerate(inds):
            col = 3 + 2 * i
            cells[(township, ind.code)] = _value_cell(ws, row, col, ind, validations[ind.code])
            _prior_cell(ws, row, col + 1, ind, prior.get((township, ind.code)))
        _style(ws.cell(row, ncols), h="left").protection = UNLOCKED
        ws.row_dimensions[row].height = 24
        row += 1
    if job.text.note:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)
        _style(ws.cell(row, 1, job.text.note), h="left", box=False, size=10)
        ws.row_dimensions[row].height = 20
    _footer(ws, row + 2, ncols, job.text.footer)
    widths = {"A": 6, "B": 12}
    for i in range(len(inds)):
        widths[get_column_letter(3 + 2 * i)] = 16
        widths[get_column_letter(4 + 2 * i)] = 11
    widths[get_column_letter(ncols)] = 12
    _page(ws, widths, header_row=4, last_row=row + 2, landscape=True)
    return cells


def _page(
    ws: Worksheet, widths: dict[str, float], *, header_row: int, last_row: int, landscape: bool
) -> None:
    """Column widths, A4 fit to one page wide, header repeated on every page, sheet protection."""
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = 0.6
    ws.page_margins.bottom = 0.6
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_area = f"A1:{get_column_letter(len(widths))}{last_row}"
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    _protect(ws)


def _protect(ws: Worksheet) -> None:
    """Protection without a password: it stops slips, and a clerk who must can lift it."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # False = allowed: widening a column does no harm
    ws.protection.formatRows = False
    ws.protection.selectLockedCells = False
    ws.protection.selectUnlockedCells = False


def _display_width(text: str) -> int:
    """Width in Excel column units: a CJK character is about two, a Latin one about one."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _write_notes(ws: Worksheet, profile: Profile, job: FormJob) -> None:
    """The 填报说明 sheet: the county's instructions, how to use this workbook, and the 审核关系."""
    width = 84
    ws.column_dimensions["A"].width = width
    cell = ws.cell(1, 1, NOTES_SHEET)
    cell.font = Font(name=TITLE_FONT, size=16, bold=True)
    cell.alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 36
    cell = ws.cell(2, 1, f"({job.table.id} {job.title})")
    cell.font = Font(name=BODY_FONT, size=11)
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[2].height = 22
    row = 2

    def numbered(lines: tuple[str, ...]) -> list[tuple[str, str]]:
        return [(f"{i}.", line) for i, line in enumerate(lines, start=1)]

    parts = [
        ("一、填报要求", numbered(job.text.instructions)),
        ("二、本表填法", numbered(job.text.how_to_fill)),
        ("三、审核关系", rules_for_table(profile, job.table.id, job.text.rules)),
    ]
    for heading, lines in parts:
        if not lines:
            continue
        row += 1
        cell = ws.cell(row, 1, heading)
        cell.font = Font(name=TITLE_FONT, size=12, bold=True)
        cell.alignment = Alignment(vertical="bottom")
        ws.row_dimensions[row].height = 28
        for mark, line in lines:
            row += 1
            text = f"{mark} {line}"
            cell = ws.cell(row, 1, text)
            cell.font = Font(name=BODY_FONT, size=11)
            cell.alignment = Alignment(wrap_text=True, vertical="top", indent=1)
            lines_needed = -(-_display_width(text) // (width - 4))  # SimSun 11pt: about 40 CJK a line
            ws.row_dimensions[row].height = 16 * lines_needed + 4
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.6
    _protect(ws)
