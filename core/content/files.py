"""Read one content file (entry, taxonomy, questionnaire, site, theme manifest, search
vocabulary) so that no file can hang, exhaust or escape the loader.

Content folders are edited by people, checked out from git and unpacked from archives,
so a file may be anything: a symbolic link to ``/dev/zero`` named ``*.md`` (reading it
never ends and fills the memory), a named pipe (opening it waits for a writer that never
comes), a link to a file elsewhere on the server, or a huge file. Each of these becomes
an ordinary problem that names the file, like a YAML mistake, and nothing is read:

* a symbolic link must stay inside the folder it belongs to (the content pack, the
  questionnaire or site folder, the theme);
* only regular files are read; the file is opened without waiting (``O_NONBLOCK``, so a
  pipe does not block) and checked on the open descriptor, so it cannot be swapped
  between the check and the read;
* a file may have at most ``MAX_FILE_BYTES`` (256 KiB); the size is checked before
  reading and the read stops one byte after the limit, in case the file grows.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from core.content.model import Problem

# The largest shipped file (a questionnaire) has 21 KiB; 256 KiB is a small book.
MAX_FILE_BYTES = 256 * 1024
_LIMIT_TEXT = f"{MAX_FILE_BYTES // 1024} KiB ({MAX_FILE_BYTES} bytes)"
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class UnreadableFile(Exception):
    """The file is not one the loader may read; the message says why, for an editor."""


def read_content_text(path: Path, folder: Path) -> str:
    """The UTF-8 text of ``path`` (newlines as with ``Path.read_text``), which must lie in
    ``folder`` once symbolic links are followed; raise UnreadableFile otherwise."""
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        raise UnreadableFile(
            "does not exist (or is a symbolic link to a file that does not exist)"
        ) from None
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python 3.11)
        raise UnreadableFile(f"cannot be read: {_reason(exc)}") from None
    base = folder.resolve()
    if not real.is_relative_to(base):
        raise UnreadableFile(
            f"is a symbolic link to {real}, outside the folder {base}; content is read only "
            "from inside its folder (copy the file there instead of linking to it)"
        )
    try:
        # O_NONBLOCK: opening a named pipe returns at once instead of waiting for a writer.
        # O_NOFOLLOW: the resolved path is not itself a link; if it became one, stop.
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise UnreadableFile(f"cannot be read: {_reason(exc)}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a file")
            raise UnreadableFile(f"is {kind}, not a regular file; only regular files are read")
        if info.st_size > MAX_FILE_BYTES:
            raise UnreadableFile(_too_large(info.st_size))
        data = _read_at_most(fd, MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:  # it grew after the size check
        raise UnreadableFile(_too_large(len(data)))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"is not valid UTF-8 text ({exc.reason})") from None
    # What Path.read_text does (universal newlines), so content hashes stay the same.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_content_file(path: Path, folder: Path, shown: str, problems: list[Problem]) -> str | None:
    """``read_content_text``, with a refusal added to ``problems`` (file ``shown``) as None."""
    try:
        return read_content_text(path, folder)
    except UnreadableFile as exc:
        problems.append(Problem(file=shown, message=str(exc)))
        return None


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(fd, min(65536, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def too_large(size: int) -> str:
    """The message for a file (or an edited entry) of ``size`` bytes over the limit."""
    return _too_large(size)


def _too_large(size: int) -> str:
    return (
        f"is {size} bytes; a content file may have at most {_LIMIT_TEXT}. "
        "Split it into several entries or shorten it"
    )


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


__all__ = [
    "MAX_FILE_BYTES",
    "UnreadableFile",
    "read_content_file",
    "read_content_text",
    "too_large",
]
