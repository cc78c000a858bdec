"""Typed errors. A ``CarestatsError`` is the tool refusing something; its message is for the user (Chinese)."""

from __future__ import annotations

import errno
import re
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


def _cannot_write(path: Path, why: str) -> UsageError:
    return UsageError(f"无法写入 {path}:{why}")


def _no_folder(path: Path) -> UsageError:
    return _cannot_write(path, f"文件夹“{path.parent}”不存在。请先建立该文件夹,或换一个位置")


def _a_folder(path: Path) -> UsageError:
    return _cannot_write(path, "这是一个文件夹。请写文件名(带扩展名)")


def check_writable(path: Path) -> None:
    """Before any work: refuse an output whose folder is missing or that is a folder (as ``writing`` would)."""
    if not path.parent.is_dir():
        raise _no_folder(path)
    if path.is_dir():
        raise _a_folder(path)


_OS_REASONS = {
    errno.ENOENT: "文件或文件夹不存在",
    errno.EACCES: "没有访问权限,或正被其他程序占用",
    errno.EPERM: "没有访问权限",
    errno.EBUSY: "文件正被其他程序占用",
    errno.EISDIR: "这是一个文件夹",
    errno.ENOTDIR: "路径中有一段是文件而不是文件夹",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "磁盘或文件夹是只读的",
    errno.ENAMETOOLONG: "文件名太长",
    errno.EIO: "读写磁盘出错",
}


def os_reason(exc: OSError) -> str:
    """The OS's reason for refusing a file, in Chinese (its own strerror is English)."""
    return _OS_REASONS.get(exc.errno or 0, f"系统错误,错误号 {exc.errno}")


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Tell the OS's refusals to write ``path`` in Chinese, naming it (exit 2: nothing is wrong with the data)."""
    try:
        yield
    except IsADirectoryError as exc:
        raise _a_folder(path) from exc
    except NotADirectoryError as exc:
        raise _cannot_write(path, "路径中有一段是文件而不是文件夹。请换一个位置") from exc
    except FileNotFoundError as exc:
        raise _no_folder(path) from exc
    except PermissionError as exc:
        raise _cannot_write(
            path, "文件可能正在 WPS/Word/Excel 中打开,或没有写入权限。请关闭该文件(或换一个位置)后重试"
        ) from exc
    except OSError as exc:
        raise _cannot_write(path, f"{os_reason(exc)}。请检查磁盘空间和写入权限,或换一个位置后重试") from exc


_TOML_REASONS = (  # tomllib's English reason → what to look for, for a clerk editing the file in Notepad/WPS
    ("Illegal character", '有不允许的字符(常见原因:引号没有配对,或用了中文引号“”而不是英文引号")'),
    ("Invalid value", "值的写法不对(文字要用英文双引号括起来,数字不加引号)"),
    ("Expected '=' after a key", "缺少等号“=”"),
    ("Cannot overwrite a value", "同一项写了两次"),
    ("Cannot declare", "同一节或同一项写了两次"),
    ("Unclosed array", "方括号 [ ] 没有配对"),
    ("Expected ']", "方括号 [ ] 没有配对"),
    ("Unclosed inline table", "花括号 { } 没有配对"),
    ("Unterminated string", "引号没有配对"),
    ("Unclosed", "括号或引号没有配对"),
    ("key part", "项名的写法不对"),
    ("unquoted key", "项名的写法不对"),
    ("Expected newline or end of document", "一行只能写一项"),
)
_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def toml_problem(exc: Exception) -> str:
    """“第 37 行第 18 列:有不允许的字符(…)”: where a TOML file is wrong and why, in Chinese."""
    text = str(exc)
    reason = next((zh for en, zh in _TOML_REASONS if en in text), "写法不对")
    m = _TOML_AT.search(text)
    where = (
        f"第 {m.group(1)} 行第 {m.group(2)} 列" if m else ("文件末尾" if "end of document" in text else "")
    )
    return f"{where}:{reason}" if where else reason
