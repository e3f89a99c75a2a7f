"""Reading delimited raw files strictly: every bad row is reported with file and line.

The fast path hands the whole file to pandas' C parser; only when that fails or the result breaks
a rule do we scan line by line to name the first offending line.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hmf.data._types import FormatError

__all__ = ["read_text", "read_bytes", "read_delimited", "line_of_row"]


def read_bytes(path: Path) -> bytes:
    """A raw file's bytes; a file that cannot be read (permissions, a directory, an I/O error)
    is a :class:`FormatError` naming it and the reason, not a traceback."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise FormatError(
            f"{path}: cannot be read ({exc.strerror or exc}); expected a readable file"
        ) from None


def line_of_row(text: str, row: int) -> int:
    """The 1-based line of ``text`` that holds data row ``row`` (0-based): blank lines hold no
    row, so after one the row index and the line number part ways."""
    seen = -1
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            seen += 1
            if seen == row:
                return number
    raise IndexError(f"row {row} is past the end of the text")


def read_text(path: Path, encoding: str) -> str:
    """Decode a raw file, refusing encodings its source never used.

    The MovieLens side files are Latin-1, which decodes any byte string, so a copy re-saved as
    UTF-8 or UTF-16 would silently turn into mojibake; we catch both cases instead.
    """
    raw = read_bytes(path)
    if b"\x00" in raw:
        raise FormatError(
            f"{path}: contains NUL bytes (UTF-16 or binary?); expected {encoding} text "
            "as in the official release"
        )
    if encoding.lower() in ("latin-1", "latin1", "iso-8859-1") and not raw.isascii():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise FormatError(
                f"{path}: is UTF-8 encoded; expected Latin-1 (ISO-8859-1) as in the official "
                "release - use the file from the official archive"
            )
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FormatError(
            f"{path}, line {line}: not valid {encoding} text ({exc.reason})"
        ) from None


def _first_bad_line(
    text: str, sep: str, columns: Sequence[str], checks: dict[str, Callable[[str], bool]]
) -> tuple[int, str]:
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        fields = line.split(sep) if sep != "whitespace" else line.split()
        if len(fields) != len(columns):
            return (
                number,
                f"expected {len(columns)} fields ({', '.join(columns)}), found {len(fields)}",
            )
        for name, value in zip(columns, fields):
            check = checks.get(name)
            if check is not None and not check(value):
                return number, f"field {name!r} = {value!r} is not valid"
    return 0, ""


def is_int(value: str) -> bool:
    try:
        int(value)
    except ValueError:
        return False
    return True


def is_integral_float(value: str) -> bool:
    try:
        number = float(value)
    except ValueError:
        return False
    return np.isfinite(number) and number == round(number)


def read_delimited(
    path: Path,
    text: str,
    sep: str,
    columns: Sequence[str],
    integer_columns: Sequence[str] = (),
    float_columns: Sequence[str] = (),
    what: str = "",
) -> pd.DataFrame:
    """Parse ``text`` (the content of ``path``) into a frame with exactly ``columns``.

    ``sep`` may be ``"whitespace"``. Integer columns become int64; float columns must still hold
    integral values (Ciao's ``%.7e`` fields) and are rounded to int64.
    """
    if len(sep) > 1 and sep != "whitespace":
        # Multi-character separators (ML-1M's "::") would force pandas' slow Python engine;
        # a control character never occurs in these files, so swap it in.
        text, sep = text.replace(sep, "\x1f"), "\x1f"
    checks: dict[str, Callable[[str], bool]] = {c: is_int for c in integer_columns}
    checks.update({c: is_integral_float for c in float_columns})

    def fail() -> FormatError:
        line, problem = _first_bad_line(text, sep, columns, checks)
        where = f"{path}, line {line}" if line else str(path)
        expected = f" (expected {what})" if what else ""
        return FormatError(f"{where}: {problem or 'malformed file'}{expected}")

    if not text.strip():
        expected = what or f"{len(columns)} fields a line ({', '.join(columns)})"
        raise FormatError(
            f"{path}: is empty; expected one line per row ({expected}), as in the official release"
        )
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=r"\s+" if sep == "whitespace" else sep,
            header=None,
            names=list(columns),
            dtype=str,
            keep_default_na=False,
            quoting=3,  # csv.QUOTE_NONE: titles contain quotes
            on_bad_lines="error",
            engine="c",
        )
    except (pd.errors.ParserError, ValueError):
        raise fail() from None
    if len(frame) != _data_lines(text) or frame.isna().any().any():
        raise fail()
    for name in integer_columns:
        values = pd.to_numeric(frame[name], errors="coerce")
        if values.isna().any():
            raise fail()
        frame[name] = values.astype(np.int64)
    for name in float_columns:
        values = pd.to_numeric(frame[name], errors="coerce")
        if values.isna().any() or not np.array_equal(values, np.rint(values)):
            raise fail()
        frame[name] = np.rint(values).astype(np.int64)
    return frame


def _data_lines(text: str) -> int:
    # str.splitlines would also split on \x85 and other characters Latin-1 text may hold.
    return sum(1 for line in text.split("\n") if line.strip())
