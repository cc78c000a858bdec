"""Thin Typer CLI: parse options, one library call, map errors to a Chinese message and an exit code, render.

Exit codes on every command: 0 clean, 1 findings or refused input, 2 usage or profile error; 3 is an
internal error (a bug), so that a script never takes a crash for findings.
"""

from __future__ import annotations

import codecs
import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
import typer._click.exceptions as click_exc
from typer.core import TyperCommand, TyperGroup

from carestats import __version__
from carestats.errors import CarestatsError, UsageError, writing

# The words the vendored click writes into every help page, and how a clerk reads them.
_HELP_HEADINGS = {"Options:": "选项:", "Arguments:": "参数:", "Commands:": "命令:"}
_HELP_PHRASES = (
    ("Show this message and exit.", "显示本帮助并退出。"),
    ("[required]", "[必填]"),
    ("[env var:", "[环境变量:"),
    ("[default:", "[默认:"),
    ("[OPTIONS]", "[选项]"),
    ("COMMAND [ARGS]...", "命令 [参数]..."),
    ("<path>", "<路径>"),
    ("<int>", "<整数>"),
    ("<str>", "<文字>"),
    ("<text>", "<文字>"),
)


def chinese_help(text: str) -> str:
    """A help page with click's English headings and notes in Chinese (headings only as whole lines, so
    that nothing the commands' own help says is touched)."""
    lines = []
    for line in text.split("\n"):
        if line.startswith("Usage: "):
            line = "用法: " + line[len("Usage: ") :]
        lines.append(_HELP_HEADINGS.get(line, line))
    text = "\n".join(lines)
    for english, chinese in _HELP_PHRASES:
        text = text.replace(english, chinese)
    return text


class ChineseCommand(TyperCommand):
    """A Typer command whose help page reads in Chinese."""

    def get_help(self, ctx) -> str:  # type: ignore[no-untyped-def]
        return chinese_help(super().get_help(ctx))


class ChineseGroup(TyperGroup):
    """Typer's command group, with usage errors and the help page told in Chinese (the vendored click
    prints English)."""

    def get_help(self, ctx) -> str:  # type: ignore[no-untyped-def]
        return chinese_help(super().get_help(ctx))

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[override]
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click_exc.NoArgsIsHelpError as exc:
            typer.echo(exc.ctx.get_help())
            sys.exit(0)
        except click_exc.UsageError as exc:
            err.print(f"用法错误:{usage_message(exc)}")
            if exc.ctx is not None:
                command = exc.ctx.command_path
            else:  # an option without its value is refused before the command has a context
                typed = sys.argv[1:] if args is None else list(args)
                command = " ".join(["carestats", *[a for a in typed if a in self.commands][:1]])
            err.print(f"请运行“{command} --help”查看用法。")
            sys.exit(2)
        except typer.Abort:
            err.print("已中止。")
            sys.exit(1)
        except click_exc.ClickException as exc:
            err.print(f"错误:{exc.format_message()}")
            sys.exit(exc.exit_code)
        sys.exit(rv if isinstance(rv, int) else 0)


def usage_message(exc: click_exc.UsageError) -> str:
    """The Chinese words for a usage error; the option or argument it is about is kept as typed."""
    if isinstance(exc, click_exc.NoSuchOption):
        hint = f"(您是不是想用 {'、'.join(exc.possibilities)}?)" if exc.possibilities else ""
        return f"没有选项 {exc.option_name}{hint}"
    if isinstance(exc, click_exc.MissingParameter):
        kind = "选项" if exc.param is not None and exc.param.param_type_name == "option" else "参数"
        return f"缺少{kind} {_param_label(exc)}"
    if isinstance(exc, click_exc.BadParameter):
        detail = exc.message
        kind = getattr(getattr(exc.param, "type", None), "name", "")  # "int" ("integer" in older click)
        if kind in ("int", "integer"):
            detail = "应为整数"
        elif kind == "float":
            detail = "应为数字"
        elif "does not exist" in detail:
            detail = "不存在"
        return f"{_param_label(exc)} 的值无效({detail})"
    text = exc.format_message()
    if text.startswith("No such command"):
        return "没有这个命令:" + text.split("'")[1] if "'" in text else text
    if text.startswith("Got unexpected extra argument"):  # “… argument(s) (a b)”: the last parentheses
        return "多余的参数:" + text.rsplit("(", 1)[-1].rstrip(")")
    if "requires an argument" in text:
        return text.replace("Option", "选项").replace("requires an argument.", "后面需要一个值")
    return text


def _param_label(exc: click_exc.BadParameter) -> str:
    param = exc.param
    if param is None:
        return str(exc.param_hint or "")
    opts = getattr(param, "opts", None) or []
    if param.param_type_name == "option" and opts:
        return str(opts[0])
    return str(param.name or "").upper()


app = typer.Typer(
    cls=ChineseGroup,
    help="carestats:县民政局“一老一小”年度报表工具——汇入报表、审核、汇总、生成答复函。",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


REDIRECTED_WIDTH = 160


class _LazyConsole:
    """A rich Console made on first use: importing rich costs a tenth of a second that --version, --help
    and a failing command should not pay."""

    def __init__(self, **options: object):
        self._options = options
        self._console = None

    def get(self):
        """The rich Console itself, for rich objects that take one."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(highlight=False, soft_wrap=True, markup=False, **self._options)
            if not self._console.is_terminal and "COLUMNS" not in os.environ:
                # output saved to a file (carestats check > 审核.txt): wide enough that file names and
                # cells are not broken mid-word, as rich's default of 80 columns does
                self._console.width = REDIRECTED_WIDTH
        return self._console

    def plain(self, text: str) -> None:
        """A line as it is (no markup, no table): written without importing rich while rich is not needed,
        so that a clean ingest of a thousand files does not pay for it."""
        if self._console is None:
            typer.echo(text, err=bool(self._options.get("stderr")))
        else:
            self._console.print(text, markup=False)

    def __getattr__(self, name: str):
        return getattr(self.get(), name)


out = _LazyConsole()
err = _LazyConsole(stderr=True)


def escape(text: str) -> str:
    """Text to print inside rich markup as it is: a file named “[初稿]大兴镇.xlsx” keeps its brackets."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def _styled(text: str, style: str):
    """A coloured table cell (the consoles read no markup: file names and messages print as they are)."""
    from rich.text import Text

    return Text(text, style=style)


def Table(*args, **kwargs):  # noqa: N802  (rich's class, imported when a table is printed)
    from rich.table import Table as RichTable

    return RichTable(*args, **kwargs)


# Shared options, declared once (each command takes them after its own name).
DbOpt = Annotated[
    Path | None,
    typer.Option(
        "--db",
        envvar="CARESTATS_DB",
        help="数据库文件,默认为当前文件夹下的 carestats.db。",
        show_default=False,
    ),
]
ProfileOpt = Annotated[
    Path | None,
    typer.Option(
        "--profile",
        envvar="CARESTATS_PROFILE",
        help="配置目录(单位、指标、审核关系、模板);默认为自带的绿春县 2025 配置。",
        show_default=False,
    ),
]
YearOpt = Annotated[int | None, typer.Option("--year", help="数据年度,如 2025。", show_default=False)]
DebugOpt = Annotated[
    bool, typer.Option("--debug", help="出错时显示详细的技术信息(traceback),供技术人员排查。")
]


INTERNAL_ERROR = 3  # neither findings (1) nor a usage mistake (2): a bug to report


def run(debug: bool, action: Callable[[], int]) -> None:
    """Run a command body: a CarestatsError becomes its Chinese message and exit code, never a traceback."""
    try:
        code = action()
    except CarestatsError as exc:
        if debug:
            traceback.print_exc()
        err.print(f"[bold red]错误:[/]{escape(exc.message)}", markup=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("已中断。已完成的文件都已完整保存,未完成的文件没有写入。")
        raise typer.Exit(1) from None
    except Exception as exc:  # a bug: say so in Chinese, show the traceback only with --debug
        if debug:
            traceback.print_exc()
        err.print(
            f"[bold red]内部错误:[/]{type(exc).__name__}: {escape(str(exc))}。请加 --debug 重新运行,并把输出发给技术人员。",
            markup=True,
        )
        raise typer.Exit(INTERNAL_ERROR) from None
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"carestats {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="显示版本号并退出。")
    ] = False,
) -> None:
    """carestats:汇入乡镇和部门报表、审核、汇总,生成答复函。"""


def _profile(path: Path | None):
    from carestats.profile import Profile

    return Profile.load(path)


def _store(path: Path | None, *, create: bool = True):
    """The store for ingest: created when missing, refused when it cannot be written."""
    from carestats.store import Store

    return Store.open(path, create=create)


def _read_store(path: Path | None):
    """The store for a command that only reads it: never created, opened read-only when it cannot be
    written (a CD, a write-protected USB stick, a shared folder the clerk may only read)."""
    from carestats.store import Store

    return Store.open(path, create=False, read_only_ok=True)


def _pick_year(store, year: int | None) -> int:
    if year is None and len(years := store.years()) > 1:
        err.print(
            f"数据库中有 {'、'.join(map(str, years))} 年的数据,使用最近的 {years[-1]} 年;可用 --year 指定。"
        )
    return store.require_year(year)


# --------------------------------------------------------------------------- ingest
@app.command(cls=ChineseCommand)
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="报表文件或文件夹(会查找子文件夹),可写多个。", show_default=False)
    ],
    db: DbOpt = None,
    profile: ProfileOpt = None,
    year: YearOpt = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="用新文件替换同一单位同一年度已汇入的报表(旧文件保留在历史中)。")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """把乡镇和部门报送的报表汇入数据库,每个数值都记住来自哪个文件、哪个工作表、哪个单元格。

    例:carestats ingest --db 2025.db 报表/2025
    """

    def body() -> int:
        from carestats.ingest import REFUSED, collect, exit_code, ingest_files

        prof = _profile(profile)
        with _store(db) as store:
            files, skipped = collect(paths)
            if not files and not any(r.status == REFUSED for r in skipped):
                names = "、".join(str(p) for p in paths)
                err.print(
                    f"在 {names} 中没有找到报表文件(.xlsx .xlsm .xls .csv),没有汇入任何数据。请检查文件夹是否选对。"
                )
                for r in skipped:
                    err.plain(f"跳过 {r.message}")
                return 1
            if len(files) >= 20 and sys.stderr.isatty():
                from rich.progress import Progress

                with Progress(console=err.get(), transient=True) as progress:
                    task = progress.add_task("汇入报表", total=len(files))
                    results = ingest_files(
                        store,
                        prof,
                        files,
                        skipped,
                        year=year,
                        replace=replace,
                        on_file=lambda _r: progress.advance(task),
                    )
            else:
                results = ingest_files(store, prof, files, skipped, year=year, replace=replace)
            _print_ingest(results)
            if debug:
                for r in results:
                    if r.trace:
                        err.print(f"--debug {r.path.name}:\n{r.trace}", markup=False)
            return exit_code(results)

    run(debug, body)


def _print_ingest(results) -> None:
    from carestats.ingest import REFUSED, SKIPPED, STORED, UNCHANGED

    labels = {STORED: "已汇入", UNCHANGED: "未变(已汇入过)", REFUSED: "拒收", SKIPPED: "跳过"}
    many = len(results) > 50  # a clerk reads the files that need attention, not a thousand “已汇入” rows
    rows = [
        r
        for r in results
        if r.status != SKIPPED and not (many and r.status in (STORED, UNCHANGED) and not r.problems)
    ]
    if rows:  # rich's table is imported only when there is a table to print
        table = Table(title="汇入结果", show_lines=False)
        for col in ("文件", "单位", "表", "年度", "数值", "问题", "结果"):
            table.add_column(col, overflow="fold")
        for r in rows:
            units = r.filer if len(r.units) <= 1 else f"{r.filer}({len(r.units)} 个乡镇)"
            style = "red" if r.status == REFUSED else "yellow" if r.problems else None
            table.add_row(
                r.path.name,
                units,
                r.table,
                str(r.year or ""),
                str(r.values or ""),
                str(len(r.problems) or ""),
                labels[r.status],
                style=style,
            )
        out.print(table)
    for r in results:
        if r.status == REFUSED:
            err.print(f"[red]拒收[/] {escape(r.message)}", markup=True)
        elif r.status == SKIPPED:
            err.plain(f"跳过 {r.message}")
        elif r.message:  # 未变 says the file's name itself; 替换了 … does not
            out.plain(r.message if r.message.startswith(r.path.name) else f"{r.path.name}:{r.message}")
        for p in r.problems:
            err.print(f"[yellow]无法读取[/] {escape(p.message)}", markup=True)
    n = {s: sum(1 for r in results if r.status == s) for s in (STORED, UNCHANGED, REFUSED, SKIPPED)}
    cells = sum(len(r.problems) for r in results)
    out.plain(
        f"共 {n[STORED] + n[UNCHANGED] + n[REFUSED]} 个文件:汇入 {n[STORED]},未变 {n[UNCHANGED]},"
        f"拒收 {n[REFUSED]};无法读取的单元格 {cells} 个"
        + (f";跳过非表格文件 {n[SKIPPED]} 个" if n[SKIPPED] else "")
        + "。"
        + (
            "请按上面的提示处理后重新汇入;无法读取的单元格可用 carestats check 查看。"
            if n[REFUSED] or cells
            else ""
        )
    )


# --------------------------------------------------------------------------- figures
@app.command(cls=ChineseCommand)
def figures(
    db: DbOpt = None,
    profile: ProfileOpt = None,
    year: YearOpt = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="输出格式:table(表格)、json、csv、xlsx;默认按 -o 的扩展名,否则为 table。",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="写入文件;不写则输出到屏幕。", show_default=False)
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """全县汇总数(各单位之和,比率按合计数重新计算)和各单位的数值。

    例:carestats figures --year 2025 --format json
    """

    def body() -> int:
        from carestats.figures import compute_figures, write_csv, write_xlsx

        chosen = _output_format(fmt, output, ("table", "json", "csv", "xlsx"))
        prof = _profile(profile)
        with _read_store(db) as store:
            fig = compute_figures(store, prof, _pick_year(store, year))
        if chosen == "json":
            text = json.dumps(fig.to_json(), ensure_ascii=False, indent=2)
            _emit(text + "\n", output)
        elif chosen == "csv":
            _emit(write_csv(fig), output, newline="")
        elif chosen == "xlsx":
            with writing(output):
                write_xlsx(fig, output)
            err.print(f"已写入 {output}")
        else:
            _print_figures(fig)
        for code, why in fig.incomplete.items():
            err.print(f"[red]无法汇总[/] {escape(f'{code} {prof.indicators[code].name}:{why}')}", markup=True)
        if fig.incomplete:
            err.print(
                f"有 {len(fig.incomplete)} 项指标因单元格无法读取而没有汇总数。请运行 carestats check 查看并改正。"
            )
        if fig.missing:
            err.print(f"[red]全县数不完整[/]:{escape(_missing_text(fig))}", markup=True)
        if fig.gaps:
            err.print(f"[red]全县数不完整[/]:{escape(_gaps_text(fig))}", markup=True)
        for t in fig.total_rows:
            err.print(f"[red]合计行不符[/] {escape(_total_row_text(fig, t))}", markup=True)
        return 1 if fig.incomplete or fig.missing or fig.gaps or fig.total_rows else 0

    run(debug, body)


def _output_format(fmt: str | None, output: Path | None, formats: tuple[str, ...]) -> str:
    """The format asked (--format, else -o's extension, else table), refused in Chinese when the command has
    no such format, when a table is to go to a file or when --format and -o's extension disagree (figures and
    history alike)."""
    chosen = fmt or (output.suffix.lower().lstrip(".") if output else "table")
    if chosen not in formats:
        raise UsageError(f"不支持的格式“{chosen}”。--format 可选 {'、'.join(formats)}")
    if chosen == "xlsx" and output is None:
        raise UsageError("xlsx 格式需要用 -o 指定输出文件")
    if output is not None:
        files = [f for f in formats if f != "table"]
        if chosen == "table":
            raise UsageError(
                f"表格(table)只显示在屏幕上;要写入 {output},请用 --format {'、'.join(files[:-1])} 或 {files[-1]}"
            )
        ext = output.suffix.lower().lstrip(".")
        if ext in ("json", "csv", "xlsx") and ext != chosen:
            raise UsageError(
                f"--format {chosen} 与文件 {output.name} 的扩展名不一致,WPS/Excel 会打不开它。请让两者一致(或不写 --format)"
            )
    return chosen


def _missing_text(fig) -> str:
    """Which expected returns are not in the store, by table, and what the county figures are then."""
    parts = []
    for tid, table in fig.profile.tables.items():
        own = [u for u, t, as_row in fig.missing if t == tid and not as_row]
        rows = [u for u, t, as_row in fig.missing if t == tid and as_row]
        if own:
            parts.append(f"{tid}还没有报送的有 {'、'.join(own)}")
        if rows:
            parts.append(f"{tid}({table.name})中没有 {'、'.join(rows)} 的数据")
    return ";".join(parts) + "。上面的全县数只是已报送单位之和;请催报后重新汇入,或运行 carestats check 查看。"


def _gaps_text(fig) -> str:
    """Which indicators' county figures lack units that sent their return without that row."""
    parts = [
        f"{code} {fig.profile.indicators[code].name}:不含 {'、'.join(units)}"
        for code, units in fig.gaps.items()
    ]
    return (
        ";".join(parts) + "(这些单位已报送的表中没有这一项)。上面的全县数只是有这一项的单位之和;"
        "请让这些单位补齐后重新报送(无数据的填 0),或运行 carestats check 查看。"
    )


def _total_row_text(fig, t) -> str:
    """A declared 合计 cell that disagrees with its rows, and which figure the county total is."""
    from carestats.findings import fmt_number

    v = t.cell
    ind = fig.profile.indicators[v.code]
    how = "按各行人数之和计算" if v.code in fig.profile.rates else "各行之和"
    return (
        f"{v.where} {v.table}合计行 {v.code} {ind.name} 填报 {fmt_number(v.value)},{how}为 {fmt_number(t.expected)}。"
        "全县数按各行计算,不取合计行;请核实,或运行 carestats check 查看。"
    )


def _emit(text: str, output: Path | None, newline: str | None = None) -> None:
    if output is None:
        sys.stdout.write(text.removeprefix("\ufeff"))  # the BOM is for Excel opening a file, not for a pipe
        sys.stdout.flush()
    else:
        with writing(output), output.open("w", encoding="utf-8", newline=newline) as fh:
            fh.write(text)
        err.print(f"已写入 {output}")


def _print_figures(fig) -> None:
    table = Table(title=f"{fig.county}{fig.year}年汇总")
    for col in ("代码", "指标名称", "单位", "全县"):
        table.add_column(col, justify="right" if col == "全县" else "left")
    for row in fig.rows():
        table.add_row(
            row["指标代码"], row["指标名称"], row["计量单位"], row["全县"] or _styled("无法汇总", "red")
        )
    out.print(table)


# --------------------------------------------------------------------------- history
@app.command(cls=ChineseCommand)
def history(
    db: DbOpt = None,
    year: YearOpt = None,
    unit: Annotated[
        str | None,
        typer.Option("--unit", help="只列这个单位报送的报表(报送单位),如 大兴镇。", show_default=False),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="输出格式:table(表格)、json、csv;默认按 -o 的扩展名,否则为 table。",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="写入文件;不写则输出到屏幕。", show_default=False)
    ] = None,
    profile: ProfileOpt = None,
    debug: DebugOpt = False,
) -> None:
    """报送历史:数据库中每一份汇入的报表(包括已被替换的),何时汇入,是否有效,被哪个文件替换、何时替换,有多少个数值。

    按汇入先后列出,最早的在前。

    例:carestats history --year 2025 --unit 大兴镇
    """

    def body() -> int:
        from carestats.history import to_json, write_csv

        chosen = _output_format(fmt, output, ("table", "json", "csv"))
        with _read_store(db) as store:
            filer = _filer_named(store, unit, profile) if unit is not None else None
            entries = store.history(year, filer)
        if chosen == "json":
            _emit(json.dumps(to_json(entries, year, filer), ensure_ascii=False, indent=2) + "\n", output)
        elif chosen == "csv":
            _emit(write_csv(entries), output, newline="")
        elif entries:
            _print_history(entries, year, filer)
        if not entries:  # a unit with returns of other years only: said, never an empty table
            who = f" {filer}" if filer else ""
            when = f" {year} 年" if year is not None else ""
            also = f"不写 --year 可列出{'该单位' if filer else ''}各年度的报表。" if when else ""
            err.print(f"数据库中没有{who}{when}报送的报表。{also}")
        return 0

    run(debug, body)


def _filer_named(store, unit: str, profile: Path | None) -> str:
    """--unit as the store has it; else, with --profile (or CARESTATS_PROFILE), by any spelling units.csv
    gives it (南沙 → 南沙镇). The bundled profile is never asked: its names are another county's."""
    try:
        return store.filer_named(unit)
    except UsageError:
        named = _profile(profile).unit_named(unit) if profile is not None else None
        if named is None or named == unit:
            raise
        return store.filer_named(named)


def _print_history(entries, year: int | None, filer: str | None) -> None:
    from carestats.history import rows

    title = "报送历史" + (f"({filer})" if filer else "") + (f" {year}年" if year is not None else "")
    table = Table(title=title)
    shown = [h for h in rows(entries)[0] if h != "文件位置"]  # the name is enough on screen; json/csv have it
    for col in shown:
        table.add_column(col, overflow="fold", justify="right" if col in ("序号", "数值个数") else "left")
    for row in rows(entries):
        style = "yellow" if row["状态"] != "有效" else None
        table.add_row(*(row[c] for c in shown), style=style)
    out.print(table)
    replaced = sum(1 for e in entries if e.status == "superseded")
    out.plain(f"共 {len(entries)} 份报表:有效 {len(entries) - replaced},已被替换 {replaced}。")


# --------------------------------------------------------------------------- report
@app.command(cls=ChineseCommand)
def report(
    spec: Annotated[
        Path, typer.Argument(help="答复函说明文件(.toml),如 data/examples/letters/2025-57.toml。")
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="答复函文件,格式按扩展名:.docx、.txt、.md、.html;不写则在屏幕上显示文本。"
        ),
    ] = None,
    db: DbOpt = None,
    profile: ProfileOpt = None,
    year: Annotated[
        int | None, typer.Option("--year", help="数据年度;默认为答复函说明中的 year。", show_default=False)
    ] = None,
    audit: Annotated[
        Path | None,
        typer.Option("--audit", help="另写一份数字核对表(.json 或 .xlsx):答复函中每个数字及其来源单元格。"),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="审核有错误时仍然生成,答复函标明“草稿（未通过审核）”。")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """用模板和已审核的数据生成答复函(GB/T 9704 版式的 Word 文档,或文本、Markdown、网页)。

    审核(carestats check)有错误时拒绝生成,除非加 --force。

    例:carestats report data/examples/letters/2025-57.toml --db 2025.db -o 答复函.docx --audit 核对.xlsx
    """

    def body() -> int:
        from carestats.letter import load_spec
        from carestats.letter_text import to_text
        from carestats.report import check_formats, prepare_letter, write_audit, write_letter

        check_formats(output, audit)
        prof = _profile(profile)
        letter_spec = load_spec(spec)
        with _read_store(db) as store:
            letter = prepare_letter(store, prof, letter_spec, year, force=force)
        if output is None:
            sys.stdout.write(to_text(letter))
            sys.stdout.flush()
        else:
            kept = write_letter(letter, output)
            err.print(f"已写入 {output}")
            if kept is not None:
                err.print(f"原有的 {output.name} 已改名为 {kept.name} 保留(其中可能有您的修改),没有被覆盖。")
        if audit is not None:
            write_audit(letter, prof, audit)
            err.print(f"已写入 {audit}(答复函中 {len(letter.printed)} 个数字及其来源单元格)")
        if letter.draft:
            err.print(
                "[yellow]注意:[/]审核有错误,本答复函标明“草稿（未通过审核）”,不能作为正式文件。", markup=True
            )
        return 0

    run(debug, body)


# --------------------------------------------------------------------------- form
@app.command(cls=ChineseCommand)
def form(
    year: YearOpt = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="报表写入的文件夹。", show_default=False)
    ] = None,
    table: Annotated[
        str | None, typer.Option("--table", help="只生成这一张表,如 表一。", show_default=False)
    ] = None,
    unit: Annotated[
        str | None, typer.Option("--unit", help="只为这个单位生成,如 大兴镇。", show_default=False)
    ] = None,
    all_units: Annotated[bool, typer.Option("--all", help="为所有乡镇和部门各生成一份。")] = False,
    force: Annotated[bool, typer.Option("--force", help="覆盖输出文件夹中已有的同名文件。")] = False,
    db: DbOpt = None,
    profile: ProfileOpt = None,
    debug: DebugOpt = False,
) -> None:
    """按配置生成下发给各单位的空白报表(.xlsx):已写好单位和年度、指标代码、输入检查,上年数取自数据库。

    例:carestats form --all --year 2026 -o 下发报表
    """

    def body() -> int:
        from carestats.forms import generate_forms, plan_forms, prior_values
        from carestats.store import default_db_path

        if year is None:
            raise UsageError("请用 --year 指定报表年度,如 --year 2026")
        if output is None:
            raise UsageError("请用 -o 指定报表写入的文件夹,如 -o 下发报表")
        prof = _profile(profile)
        jobs = plan_forms(prof, year, table=table, unit=unit, all_units=all_units)
        prior = {}
        db_path = db or default_db_path()
        if db is not None or db_path.exists():
            with _read_store(db_path) as store:
                prior = prior_values(store, year - 1)
            if not prior:
                err.print(f"数据库 {db_path} 中没有 {year - 1} 年的数据,“上年数”一栏留空。")
        else:
            err.print(f"没有找到数据库 {db_path},“上年数”一栏留空;可用 --db 指定数据库。")
        written = generate_forms(prof, jobs, output, prior, overwrite=force)
        for w in written:
            out.print(f"{w.job.table.id}  {w.job.unit.name}  {w.path}")
        out.print(f"已生成 {len(written)} 份 {year} 年报表,在 {output} 中。")
        return 0

    run(debug, body)


# --------------------------------------------------------------------------- check
@app.command(cls=ChineseCommand)
def check(
    db: DbOpt = None,
    profile: ProfileOpt = None,
    year: YearOpt = None,
    fmt: Annotated[
        str, typer.Option("--format", help="输出格式:table(表格,默认)或 json。", show_default=False)
    ] = "table",
    annotate: Annotated[
        Path | None,
        typer.Option(
            "--annotate",
            help="把有问题的报表复制到此文件夹,问题单元格标红(错误)或标黄(提示)并加批注;原文件不变。",
            show_default=False,
        ),
    ] = None,
    letter: Annotated[
        Path | None,
        typer.Option(
            "--letter",
            help="同时逐个核对答复函(.docx、.txt、.md)中的数字:与数据不符的为错误,对应不到指标的为提示。",
            show_default=False,
        ),
    ] = None,
    spec: Annotated[
        Path | None,
        typer.Option(
            "--spec",
            help="生成该答复函所用的答复函说明(.toml),按其模板逐处对照;不写则按信中文号查找,找不到则按文字对应指标。",
            show_default=False,
        ),
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """按配置中的审核关系(rules.toml)审核已汇入的报表,指出每个问题所在的文件、工作表和单元格。

    加 --letter 时,还逐个核对答复函中的数字是否与数据相符。有错误时退出码为 1,只有提示时为 0。
    例:carestats check --year 2025 --annotate 审核意见
    例:carestats check --letter 答复函.docx --spec data/examples/letters/2025-57.toml
    """

    def body() -> int:
        from carestats.check import run_check
        from carestats.findings import render_table
        from carestats.rules import load_rules

        if fmt not in ("table", "json"):
            raise UsageError(f"不支持的格式“{fmt}”。--format 可选 table、json")
        if spec is not None and letter is None:
            raise UsageError("--spec 要与 --letter 一起用,如 --letter 答复函.docx --spec 2025-57.toml")
        prof = _profile(profile)
        rules = load_rules(prof)
        checked_letter = letter_spec = None
        if letter is not None:
            from carestats.letter_check import choose_spec
            from carestats.letter_read import read_letter

            letter_text = read_letter(letter)
            letter_spec, spec_notes = choose_spec(letter_text, prof, spec)
        with _read_store(db) as store:
            chosen = year if year is not None or letter_spec is None else letter_spec.year
            if letter is not None and chosen is None and len(years := store.years()) > 1:
                raise UsageError(
                    f"数据库中有 {'、'.join(map(str, years))} 年的数据,没有找到与 {letter.name} 文号相同的答复函说明文件,"
                    "无法确定这封信对应哪一年。请用 --year 指定年度(或用 --spec 指定答复函说明文件)"
                )
            chosen = _pick_year(store, chosen)
            result = run_check(store, prof, chosen, rules)
            if letter is not None:
                from carestats.letter_check import check_letter, letter_findings

                checked_letter = check_letter(letter_text, store, prof, chosen, letter_spec)
                checked_letter.notes[:0] = spec_notes
                found_in_letter = letter_findings(checked_letter)
                result.findings.extend(found_in_letter)
        if fmt == "json":
            data = result.to_json()
            if checked_letter is not None:
                data["letter"] = checked_letter.to_json()
            sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
            sys.stdout.flush()
            for note in result.notes + (checked_letter.notes if checked_letter else []):
                err.print(f"说明:{note}")
        elif checked_letter is not None:
            from carestats.findings import CheckResult
            from carestats.letter_check import render_letter_findings

            data_part = CheckResult(
                result.year,
                [f for f in result.findings if f not in found_in_letter],
                result.passes,
                result.notes,
                result.unit_order,
            )
            render_table(data_part, out.get())
            out.print()
            render_letter_findings(checked_letter, found_in_letter, out.get())
        else:
            render_table(result, out.get())
        if annotate is not None:
            from carestats.annotate import annotate_returns

            written = annotate_returns(result, annotate)
            for note in written.skipped:
                err.print(f"[yellow]注意[/] {escape(note)}", markup=True)
            err.print(f"已在 {annotate} 中写入 {len(written.written)} 个文件(原报表未改动)。")
        return result.exit_code

    run(debug, body)


# --------------------------------------------------------------------------- init
@app.command(cls=ChineseCommand)
def init(
    directory: Annotated[Path, typer.Argument(help="新配置目录(不存在或为空)。", show_default=False)],
    debug: DebugOpt = False,
) -> None:
    """复制一份自带的配置(单位、指标目录、审核关系、模板、答复函说明示例)到指定目录,供修改后用 --profile 使用。

    例:carestats init 我县配置
    """

    def body() -> int:
        from carestats.profile import Profile, init_profile

        with writing(directory):
            target = init_profile(directory)
        Profile.load(target)
        out.print(
            f"已生成配置目录 {target}。修改其中的文件后,用 --profile {target} 使用;"
            f"答复函说明的示例在 {target / 'letters'} 中。"
        )
        return 0

    run(debug, body)


# Characters that a GBK (cp936) stream cannot hold, and what stands in for them there: a clerk's
# `carestats report … > 答复函.txt` on Chinese Windows writes GBK, and the letter has “・”.
_STAND_INS = {"\u30fb": "·", "\u00a0": " ", "\u2022": "·", "\u2027": "·", "\ufeff": "", "\u200b": ""}


def _stand_in(exc: UnicodeError) -> tuple[str, int]:
    """The encode error handler of the console streams: a known stand-in, else the character's \\u code, so
    that one unusual character (a no-break space pasted into a cell) never costs the user the whole output."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for ch in exc.object[exc.start : exc.end]:
        sub = _STAND_INS.get(ch)
        try:
            if sub is None:
                raise UnicodeEncodeError(exc.encoding, ch, 0, 1, "no stand-in")
            sub.encode(exc.encoding)
        except (UnicodeEncodeError, LookupError):
            sub = f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"
        out.append(sub)
    return "".join(out), exc.end


codecs.register_error("carestats-stand-in", _stand_in)


def tolerant_streams() -> None:
    """Console streams in a legacy encoding (GBK when output is redirected on Chinese Windows) write a
    stand-in for a character they cannot hold instead of failing the command."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if encoding and not encoding.startswith("utf"):
            try:
                stream.reconfigure(errors="carestats-stand-in")  # type: ignore[union-attr]
            except (AttributeError, ValueError):  # not a text stream we can reconfigure
                pass


def main() -> None:
    """The console script (and ``python -m carestats``): run the command, flush what it printed, and leave
    without tearing the interpreter down. Every command has closed its store and its files by then; freeing
    a province's worth of objects one by one took 30–40 ms of a 1 s ingest. Tests call ``app``."""
    tolerant_streams()
    try:
        app()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):  # as Python's own exit does with a message
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that went away (carestats figures | head), a closed stream
            pass
    os._exit(code)
