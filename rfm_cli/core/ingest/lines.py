"""The physical lines of a delimited text file, counted from its bytes, independently of the CSV reader.

The import reconciles what the reader made of a file (rows, rejected records, blank lines, line
breaks inside quoted values) with these counts, and fails when they disagree: a line the reader
swallowed or dropped without a word can never make the counts add up by accident.

Streaming passes in chunks at C speed (bytes.count/find/translate, never a Python loop per line).
The common case costs one `count` of the line breaks: when the reader's rows equal the data lines
(less the empty lines at the end) nothing else is needed; only a file with empty lines or line
breaks inside quoted values gets the second, exact pass (`scan_text(parity=True)`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

CHUNK = 16 * 1024 * 1024
_QUOTE = b'"'


@dataclass
class LineScan:
    lines: int = 0  # physical lines in the file (a last line without a line break counts)
    data_lines: int = 0  # physical lines from first_line to the end
    newline: bytes = b"\n"  # what ends a line: "\n" (also for "\r\n"), or "\r" in a classic-Mac file
    trailing_blanks: int = 0  # empty lines at the very end of the file
    has_quotes: bool = False  # a quote character at or after first_line
    blanks: list[int] = field(default_factory=list)  # empty lines at or after first_line (blank_lines=True)
    # parity=True, from first_line on, every quote toggling "inside a quoted value" (exact for files
    # a CSV writer wrote; a lone quote inside an unquoted value makes it differ from the reader):
    quoted_newlines: int = 0  # line breaks inside quoted values
    blank_outside: int = 0  # empty lines outside quoted values

    @property
    def last_nonblank(self) -> int:
        return self.lines - self.trailing_blanks


def _newline_of(head: bytes) -> bytes:
    return b"\r" if b"\n" not in head and b"\r" in head else b"\n"


def _blank_pattern(newline: bytes, head: bytes) -> bytes:
    if newline == b"\r":
        return b"\r\r"
    return b"\n\r\n" if b"\r\n" in head[:65536] else b"\n\n"


def _data_offset(path: Path, newline: bytes, line: int) -> int:
    """Byte offset where physical line `line` starts (the file's size if it has fewer lines)."""
    offset, position = 0, 0
    with path.open("rb") as handle:
        while line > 1 and (chunk := handle.read(CHUNK)):
            found = chunk.find(newline)
            while found != -1 and line > 1:
                line -= 1
                offset = position + found + 1
                found = chunk.find(newline, found + 1)
            position += len(chunk)
    return offset if line <= 1 else position


def _find_all(buffer: bytes, pattern: bytes, from_offset: int = 0) -> list[int]:
    """Start offsets of the (overlapping) occurrences of pattern in buffer ending after from_offset."""
    found = []
    position = buffer.find(pattern, max(0, from_offset - len(pattern) + 1))
    while position != -1:
        found.append(position)
        position = buffer.find(pattern, position + 1)
    return found


def count_lines(path: Path, first_line: int) -> LineScan:
    """The line count alone (lines, data_lines, trailing_blanks, newline): the one pass the import's
    fast path pays, read into one reused buffer (half the CPU of reading new chunks)."""
    scan = LineScan()
    buffer = bytearray(1024 * 1024)
    breaks = size = 0
    with path.open("rb", buffering=0) as handle:
        while read := handle.readinto(buffer):
            if not size:
                scan.newline = _newline_of(bytes(buffer[:min(read, 65536)]))
            breaks += buffer.count(scan.newline, 0, read)
            size = read
    # readinto leaves the last chunk read in the buffer: a last line without a line break counts
    scan.lines = breaks + (1 if size and buffer[size - 1:size] != scan.newline else 0)
    scan.data_lines = max(0, scan.lines - first_line + 1)
    scan.trailing_blanks = min(_trailing_blanks(path, scan.newline), scan.data_lines)
    return scan


def scan_text(path: Path, first_line: int, *, blank_lines: bool = False, parity: bool = False) -> LineScan:
    """Count the lines of `path` (UTF-8, or any encoding whose line breaks and quotes are single
    bytes never inside a character: not UTF-16). `first_line`: the first data line. `blank_lines`:
    list the empty lines (by number, quoted or not); `parity`: count the line breaks inside quoted
    values and the empty lines outside them."""
    scan = LineScan()
    with path.open("rb") as handle:
        head = handle.read(65536)
    scan.newline = nl = _newline_of(head)
    pattern = _blank_pattern(nl, head)
    start = _data_offset(path, nl, first_line) if first_line > 1 else 0
    lines_before, position = 0, 0  # line breaks and bytes before the current chunk
    tail = nl if start > 0 else b""  # the header's line break: an empty first data line shows
    inside = False  # parity: inside a quoted value where the previous chunk ended
    last = b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            skip = max(0, start - position)  # bytes of the header in this chunk
            if skip < len(chunk):
                data = chunk[skip:] if skip else chunk
                scan.has_quotes = scan.has_quotes or _QUOTE in data
                if blank_lines:
                    before = lines_before + (chunk.count(nl, 0, skip) if skip else 0)
                    _add_blanks(scan, tail + data, len(tail), before - tail.count(nl), nl, pattern)
                if parity:
                    inside = _add_parity(scan, tail + data, len(tail), pattern, inside)
                tail = (tail + data)[-(len(pattern) - 1):]
            lines_before += chunk.count(nl)
            position += len(chunk)
            last = chunk
    scan.lines = lines_before + (1 if last and not last.endswith(nl) else 0)
    scan.data_lines = max(0, scan.lines - first_line + 1)
    scan.trailing_blanks = min(_trailing_blanks(path, nl), scan.data_lines)
    return scan


def _add_blanks(scan: LineScan, buffer: bytes, skip: int, lines_before: int, nl: bytes,
                pattern: bytes) -> None:
    """Number the empty lines found in buffer (after its first `skip` bytes, the previous tail)."""
    counted_to, count = 0, 0
    for position in _find_all(buffer, pattern, skip):
        count += buffer.count(nl, counted_to, position + 1)
        counted_to = position + 1
        scan.blanks.append(lines_before + count + 1)


_KEEP_QUOTES_AND_BREAKS = bytes(b for b in range(256) if b not in b'"\n\r')


def _add_parity(scan: LineScan, buffer: bytes, skip: int, pattern: bytes, inside: bool) -> bool:
    """Add one chunk's quoted line breaks and empty lines outside quotes; return the state after it."""
    nl = scan.newline
    data = buffer[skip:]
    if not inside and _QUOTE not in data:
        scan.blank_outside += len(_find_all(buffer, pattern, skip))
        return False
    # Only quotes and line breaks matter; an adjacent pair of quotes ("" inside a value, or an empty
    # quoted value) never changes the state, so dropping pairs leaves a short string to walk.
    marks = data.translate(None, _KEEP_QUOTES_AND_BREAKS).replace(b'""', b"")
    parts = marks.split(_QUOTE)
    quoted = parts[0::2] if inside else parts[1::2]
    scan.quoted_newlines += sum(part.count(nl) for part in quoted)
    # empty lines: those outside quotes, by the quotes before each (they are few)
    counted_to, quotes = skip, 0
    for position in _find_all(buffer, pattern, skip):
        end = position + len(pattern) - 1  # the line break that ends the empty line
        if end < skip:
            continue
        quotes += buffer.count(_QUOTE, counted_to, end)
        counted_to = end
        if not (inside ^ (quotes % 2 == 1)):
            scan.blank_outside += 1
    return inside ^ ((len(parts) - 1) % 2 == 1)


def _trailing_blanks(path: Path, newline: bytes) -> int:
    """Empty lines at the end of the file, from its last 64 KB."""
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 65536))
        end = handle.read()
    stripped = end.rstrip(b"\r\n")
    ending = end[len(stripped):]
    # the first line break ends the last line with text; each further one ends an empty line
    return max(0, ending.count(newline) - (1 if stripped else 0))
