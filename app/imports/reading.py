"""Reading an uploaded file into a header row and data rows with their line numbers.

Accepts what HR systems and Excel write: CSV with ``;``, ``,`` or tab, in UTF-8 (with or without
BOM), Windows-1252 or UTF-16 (Excel's "Unicode text"), and XLSX. Anything else is refused with a
reason the user can act on (see ``messages.py``).
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

#: A data file with more rows than this is refused (a city has at most a few ten thousand staff).
MAX_ROWS = 200_000
#: An XLSX file may unpack to at most this many bytes (50,000 staff unpack to about 15 MB).
MAX_XLSX_UNPACKED = 300 * 1024 * 1024
#: A row with more columns than this is not a staff list.
MAX_COLUMNS = 200

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FileProblem(Exception):
    """The file as a whole cannot be read; ``code`` names the message (see ``messages.py``)."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass
class Table:
    """A file's header and its data rows; each row is (line number, cell texts)."""

    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]
    format: str  # "csv" or "xlsx"
    estimated_rows: int


def read_table(content: bytes) -> Table:
    """Open ``content`` as XLSX or CSV; raises ``FileProblem`` if it is neither."""
    if not content or not content.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise FileProblem("empty_file")
    if content.startswith(b"PK\x03\x04"):
        return _read_xlsx(content)
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem("old_excel")
    if content.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        raise FileProblem("binary_file")
    text = _decode(content)
    return _read_csv(text)


def _decode(content: bytes) -> str:
    if content.startswith(codecs.BOM_UTF8):
        return _strict(content[3:], "utf-8")
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(content, "utf-16")
    if b"\x00" in content[:8192]:
        raise FileProblem("binary_file")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Excel's "CSV (Trennzeichen-getrennt)" on German Windows: Windows-1252.
    text = _strict(content, "cp1252")
    if sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\r\n\t") > 8:
        raise FileProblem("binary_file")
    return text


def _strict(content: bytes, encoding: str) -> str:
    try:
        return content.decode(encoding)
    except UnicodeDecodeError as error:
        raise FileProblem("bad_encoding", position=error.start) from error


def _read_csv(text: str) -> Table:
    source = io.StringIO(text, newline="")
    offset, position = 0, 0  # lines and characters before the header
    line = source.readline()
    while line and not line.strip():
        offset, position, line = offset + 1, source.tell(), source.readline()
    if line.strip().lower().startswith("sep="):
        delimiter = line.strip()[4:5] or ";"  # Excel's "sep=;" hint line
        offset += 1
    else:
        delimiter = _delimiter(line)
        source.seek(position)
    reader = csv.reader(source, delimiter=delimiter, quotechar='"', strict=False)
    try:
        headers = next(reader)
    except StopIteration:
        raise FileProblem("empty_file") from None
    except csv.Error as error:
        raise FileProblem("bad_csv", line=offset + 1, detail=str(error)) from None
    headers = [h.strip() for h in headers]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise FileProblem("empty_file")
    if len(headers) > MAX_COLUMNS:
        raise FileProblem("too_many_columns", limit=MAX_COLUMNS)

    def rows() -> Iterator[tuple[int, list[str]]]:
        start = reader.line_num + 1
        count = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise FileProblem("bad_csv", line=offset + start, detail=str(error)) from None
            line, start = offset + start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue  # an empty line, or one of empty trailing columns
            count += 1
            if count > MAX_ROWS:
                raise FileProblem("too_many_rows", limit=MAX_ROWS)
            yield line, cells

    estimated = max(text.count("\n") - offset - 1, 0)
    return Table(headers=headers, rows=rows(), format="csv", estimated_rows=estimated)


def _delimiter(header_line: str) -> str:
    """The separator of a header line: the most frequent of ``;``, tab and ``,`` outside quotes."""
    counts = {";": 0, "\t": 0, ",": 0}
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: (counts[d], d == ";"))
    return best if counts[best] else ";"


def _read_xlsx(content: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        unpacked = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(content)).infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise FileProblem("bad_xlsx") from error
    if unpacked > MAX_XLSX_UNPACKED:  # a "zip bomb", or far more than a staff list
        raise FileProblem("too_large", limit=MAX_XLSX_UNPACKED // 2**20)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise FileProblem("bad_xlsx") from error
    sheet = workbook.worksheets[0] if workbook.worksheets else None
    if sheet is None:
        raise FileProblem("empty_file")
    iterator = sheet.iter_rows(values_only=True)
    headers: list[str] | None = None
    header_row = 0
    try:
        for values in iterator:
            header_row += 1
            if values and any(_cell_text(v).strip() for v in values):
                headers = [_cell_text(v).strip() for v in values]
                break
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise FileProblem("bad_xlsx") from error
    if headers is None:
        raise FileProblem("empty_file")
    while headers and not headers[-1]:
        headers.pop()
    if len(headers) > MAX_COLUMNS:
        raise FileProblem("too_many_columns", limit=MAX_COLUMNS)

    def rows() -> Iterator[tuple[int, list[str]]]:
        count = 0
        try:
            for line, values in enumerate(iterator, start=header_row + 1):
                cells = [_cell_text(v) for v in values or ()]
                if not any(cell.strip() for cell in cells):
                    continue
                count += 1
                if count > MAX_ROWS:
                    raise FileProblem("too_many_rows", limit=MAX_ROWS)
                yield line, cells
        except (zipfile.BadZipFile, KeyError, OSError) as error:
            raise FileProblem("bad_xlsx") from error
        finally:
            workbook.close()

    estimated = max((sheet.max_row or header_row) - header_row, 0)
    return Table(headers=headers, rows=rows(), format="xlsx", estimated_rows=estimated)


def _cell_text(value) -> str:
    """A cell as text; dates as ``yyyy-mm-dd``, whole numbers without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
