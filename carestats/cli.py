"""Thin Typer CLI: parse options, call the library, render with rich. Filled in per command."""

from __future__ import annotations

import typer

from carestats import __version__

app = typer.Typer(help="carestats:县民政局“一老一小”年度报表工具。", no_args_is_help=True, add_completion=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"carestats {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="显示版本号并退出。"),
) -> None:
    """carestats:汇入乡镇和部门报表、审核、汇总,生成答复函。"""


def main() -> None:
    app()
