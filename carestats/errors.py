"""Typed errors. A ``CarestatsError`` is the tool refusing something; its message is for the user (Chinese)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class CarestatsError(Exception):
    """Base: an expected failure with a Chinese message; the CLI prints it without a traceback."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UsageError(CarestatsError):
    """Wrong options or arguments (exit 2)."""

    exit_code = 2


class ProfileError(CarestatsError):
    """The profile (units, catalogue, rules, templates) is broken (exit 2)."""

    exit_code = 2


class StoreError(CarestatsError):
    """The SQLite store cannot be used (exit 2: nothing about the returns is wrong)."""

    exit_code = 2


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Tell the OS's refusals to write ``path`` in Chinese, naming it (exit 2: nothing is wrong with the data)."""
    try:
        yield
    except IsADirectoryError as exc:
        raise UsageError(f"无法写入 {path}:这是一个文件夹。请在 -o 后写文件名(带扩展名)") from exc
    except NotADirectoryError as exc:
        raise UsageError(f"无法写入 {path}:路径中有一段是文件而不是文件夹。请换一个位置") from exc
    except FileNotFoundError as exc:
        raise UsageError(
            f"无法写入 {path}:文件夹“{path.parent}”不存在。请先建立该文件夹,或换一个位置"
        ) from exc
    except PermissionError as exc:
        raise UsageError(
            f"无法写入 {path}:文件可能正在 WPS/Word/Excel 中打开,或没有写入权限。请关闭该文件(或换一个位置)后重试"
        ) from exc
    except OSError as exc:
        raise UsageError(f"无法写入 {path}({exc.strerror or exc})。请检查磁盘空间和写入权限后重试") from exc
