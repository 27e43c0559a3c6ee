"""The text encoding of an export or an opt-out file, decided per file from the evidence of its lines.

A byte-order mark settles it (UTF-8, UTF-16); so do the zero bytes of UTF-16 without one. Else the
lines are the evidence: a line of plain ASCII says nothing, a line with other bytes is a vote for
UTF-8 when it decodes as UTF-8 and against it when it does not. Legacy Chinese text (GBK/GB18030)
almost never decodes as UTF-8, while UTF-8 decodes as GB18030 into the wrong characters (`王琳` ->
`鐜嬬惓`), so a file is never re-decoded whole because a few of its lines are odd:

- more UTF-8 lines than others: UTF-8; the lines that are not UTF-8 are rejected when read;
- else GB18030 (or Windows-1252) when the sample decodes as that; a line that is valid UTF-8 in it
  is named in `foreign_lines` (decoding it would give the wrong characters: it is rejected);
- else GB18030 when most non-UTF-8 lines decode as GB18030; the others are rejected when read.

Files up to `FULL_CHECK` bytes are examined whole, larger ones on their first `SAMPLE` bytes.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

from rfm_cli.core.errors import DataError, InputError

FULL_CHECK = 32 * 1024 * 1024  # files up to this size are examined whole
SAMPLE = 8 * 1024 * 1024  # larger ones: this much, cut at a line boundary
_GB_LINES_TRIED = 20_000  # lines tried one by one as GB18030 when the sample does not decode whole
# Chinese characters and their punctuation
_CJK = re.compile("[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


@dataclass(frozen=True)
class Detected:
    codec: str  # a Python codec name
    notes: list[str] = field(default_factory=list)  # the decision and its evidence, for `rfm inspect`
    # lines (1-based) in another encoding that would decode into wrong characters: to reject
    foreign_lines: tuple[int, ...] = ()
    sampled: bool = False  # True when only the start of the file was examined


def detect(path: Path, head: bytes) -> Detected:
    """The encoding of the text file `path`, whose first bytes are `head`. InputError when the
    bytes are binary or fit no encoding rfm reads."""
    if head.startswith(codecs.BOM_UTF8):
        return Detected("utf-8-sig", ["encoding utf-8-sig: UTF-8 with a byte-order mark"])
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Detected("utf-16", ["encoding utf-16: byte-order mark"])
    if b"\x00" in head:
        return _utf16_without_bom(path, head)
    sample, whole = _sample(path)
    try:
        sample.decode("utf-8")
        scope = "" if whole else f" (first {len(sample) // (1024 * 1024)} MB checked)"
        return Detected("utf-8", [f"encoding utf-8: valid UTF-8{scope}"], sampled=not whole)
    except UnicodeDecodeError:
        pass
    return _by_line_evidence(path, sample, whole)


def _utf16_without_bom(path: Path, head: bytes) -> Detected:
    sample = head[:4096]
    even_zeros = sample[0::2].count(0)
    odd_zeros = sample[1::2].count(0)
    half = max(1, len(sample) // 2)
    if odd_zeros > 0.3 * half and even_zeros < 0.05 * half:
        return Detected("utf-16-le", ["encoding utf-16-le: UTF-16 without a byte-order mark"])
    if even_zeros > 0.3 * half and odd_zeros < 0.05 * half:
        return Detected("utf-16-be", ["encoding utf-16-be: UTF-16 without a byte-order mark"])
    raise InputError(f"{path} is not a text, Excel or Parquet file (binary content); "
                     "save it as CSV or Excel and pass it again")


def _sample(path: Path) -> tuple[bytes, bool]:
    with path.open("rb") as handle:
        if path.stat().st_size <= FULL_CHECK:
            return handle.read(), True
        sample = handle.read(SAMPLE)
    cut = sample.rfind(b"\n")
    return (sample[: cut + 1] if cut > 0 else sample), False


@dataclass
class _Evidence:
    """What a sample that is not UTF-8 throughout says, from one C-speed decode with replacement
    characters. Legacy Chinese read as UTF-8 leaves a line whole only by chance, when it is short,
    and then as Greek or Cyrillic letters (`一一` in GBK is the valid UTF-8 `һһ`), never as Chinese."""

    invalid: int = 0  # bytes (sequences) that are not UTF-8
    chinese: int = 0  # bytes of Chinese characters in lines that decode whole as UTF-8
    letters: int = 0  # bytes of the other non-ASCII characters of those lines
    utf8_lines: list[int] = field(default_factory=list)
    other_lines: list[int] = field(default_factory=list)  # lines with bytes that are not UTF-8
    foreign: list[int] = field(default_factory=list)  # whole UTF-8 lines with Chinese in them

    @classmethod
    def of(cls, sample: bytes) -> _Evidence:
        text = sample.decode("utf-8", errors="replace")
        found = cls(invalid=text.count("\ufffd"))
        for number, line in enumerate(text.split("\n"), start=1):
            if line.isascii():
                continue
            if "\ufffd" in line:
                found.other_lines.append(number)
                continue
            found.utf8_lines.append(number)
            cjk = len(_CJK.findall(line))
            found.chinese += 3 * cjk
            found.letters += len(line.encode("utf-8")) - len(line.encode("ascii", "ignore")) - 3 * cjk
            if cjk >= 2:  # Chinese the way UTF-8 writes it: evidence, not chance
                found.foreign.append(number)
        return found


def _by_line_evidence(path: Path, sample: bytes, whole: bool) -> Detected:
    """Decide for a sample that is not valid UTF-8 throughout (see the module's docstring)."""
    found = _Evidence.of(sample)
    scope = "" if whole else " in the first part of the file"
    first_bad = found.other_lines[0] if found.other_lines else 1

    def decided(codec: str, note: str, foreign: tuple[int, ...] = tuple(found.foreign)) -> Detected:
        notes = [f"encoding {codec}: {note}"]
        if foreign:
            notes.append(f"{len(foreign):,} lines{scope} are UTF-8 among lines in another encoding (first "
                         f"at line {foreign[0]}): rejected, as they would read as the wrong characters")
        return Detected(codec, notes, foreign, sampled=not whole)

    utf8_note = (f"{len(found.utf8_lines):,} lines{scope} are UTF-8, {len(found.other_lines):,} are not "
                 f"(first at line {first_bad}): those are rejected")
    if found.chinese >= found.invalid:  # Chinese in UTF-8 with some broken lines
        return decided("utf-8", utf8_note, ())
    if _decodes(sample, "gb18030"):
        return decided("gb18030", f"not valid UTF-8 (line {first_bad}), decodes as GB18030 (GBK)")
    # GB18030 with a few broken lines (rejected when read): three in four lines or more decode
    lines = sample.split(b"\n")
    tried = found.other_lines[:_GB_LINES_TRIED]
    failing = [n for n in tried if not _decodes(lines[n - 1], "gb18030")]
    if len(failing) * 4 <= len(tried):
        return decided("gb18030", f"lines decode as GB18030 (GBK) but {len(failing):,}{scope} (first at line "
                                  f"{failing[0] if failing else first_bad}): those are rejected")
    if found.chinese + found.letters >= found.invalid:  # UTF-8 of another script with some broken lines
        return decided("utf-8", utf8_note, ())
    if _decodes(sample, "cp1252"):
        return decided("cp1252", f"not valid UTF-8 (line {first_bad}), decodes as Windows-1252")
    raise InputError(
        f"cannot tell the text encoding of {path} (not UTF-8, UTF-16, GB18030 or Windows-1252, "
        f"first bad byte on line {first_bad}); open it in Excel or a text editor and save it as UTF-8 CSV"
    )


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def read_text(path: Path, what: str = "file") -> str:
    """The whole text of a small file (an opt-out list), decoded as `detect` decides, strictly: a
    line that does not decode, or would decode into the wrong characters, is an error naming it,
    never a silently dropped or garbled value. Raises InputError when the file cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read {what} {path}: {error.strerror or error}; check the path") from None
    if not data:
        raise DataError(f"{what} {path} is empty; put one value per row, or pass the right file")
    detected = detect(path, data[:64 * 1024])
    if detected.foreign_lines:
        raise DataError(f"{what} {path} mixes encodings: line {detected.foreign_lines[0]} is UTF-8 in a "
                        f"{detected.codec} file; save the whole file as UTF-8 and pass it again")
    try:
        text = data.decode(detected.codec)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise DataError(f"{what} {path} is not valid {detected.codec} at line {line}; "
                        "save it as UTF-8 (or as an Excel workbook) and pass it again") from None
    return text.removeprefix("\ufeff")
