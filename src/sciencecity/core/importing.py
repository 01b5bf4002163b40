"""Generic spreadsheet import: read .xlsx/.csv, map headers, validate rows, dry run, atomic apply.

The product pattern (DESIGN.md §5): upload → dry run with a per-row report (created / updated /
unchanged / error with a stable code and a human message) → confirm. A domain app describes one
import with an :class:`Importer` (its columns and how one row is written through the app's
services); this module does the rest:

* :func:`read_table` reads the first sheet that carries the headers (or the sheet named like the
  template's data sheet) of an .xlsx workbook, or a CSV file (UTF-8 with or without BOM, GB18030
  fallback; comma, semicolon or tab);
* :func:`dry_run` validates every row and runs the writes inside a transaction that is always
  rolled back, so the report says exactly what the confirm will do;
* :func:`apply` runs the same code and commits only when every row succeeded; otherwise it rolls
  everything back and raises :class:`ImportRejected`.

Row numbers are the ones the user sees in Excel: the header row is row 1.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import decimal
import enum
import functools
import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sciencecity.core import permissions, uploads, xlsx_reader
from sciencecity.core.audit import audit_record
from sciencecity.core.models import AuditAction, ImportBatch, ImportStatus

if TYPE_CHECKING:
    from sciencecity.accounts.models import User


class ImportErrorCode(enum.StrEnum):
    """The one import-error code space: a stable code with a human message (zh and en).

    :class:`ImportError` holds the codes every importer shares. An importer with row problems of its
    own extends the space with a subclass that has its own members, and registers their messages with
    :func:`register_import_errors`; a code another enum has taken is a configuration error, so a code
    in a report names one problem only.
    """

    @property
    def is_warning(self) -> bool:
        return self.value in _WARNINGS

    def message(self, **params: Any) -> str:
        """The human message in the active language, with ``params`` filled in."""
        return str(_MESSAGES[self.value]) % params


_MESSAGES: dict[str, Any] = {}
_WARNINGS: set[str] = set()
_OWNERS: dict[str, type[ImportErrorCode]] = {}


def register_import_errors(codes: type[ImportErrorCode], messages: Mapping[ImportErrorCode, Any], *,
                           warnings: Iterable[ImportErrorCode] = ()) -> None:
    """Add the members of ``codes`` (with their ``messages``; ``warnings`` do not fail a row) to the code space."""
    for code in codes:
        owner = _OWNERS.get(code.value)
        if owner is not None and (owner.__module__, owner.__qualname__) != (codes.__module__, codes.__qualname__):
            raise ImproperlyConfigured(f"import error code {code.value!r} is already used by {owner.__qualname__}")
        if code not in messages:
            raise ImproperlyConfigured(f"import error code {code.value!r} has no message")
        _OWNERS[code.value] = codes
        _MESSAGES[code.value] = messages[code]
    _WARNINGS.update(code.value for code in warnings)


class ImportError(ImportErrorCode):  # the domain name: shadows the builtin inside this module only
    """Stable codes of everything that can go wrong in any import, each with a human message."""

    FILE_NOT_READABLE = "file_not_readable"
    FILE_ENCODING = "file_encoding"
    UNSUPPORTED_FILE_TYPE = "unsupported_file_type"
    FILE_TOO_LARGE = "file_too_large"
    EMPTY_FILE = "empty_file"
    MISSING_HEADER = "missing_header"
    UNKNOWN_HEADER = "unknown_header"
    DUPLICATE_HEADER = "duplicate_header"
    REQUIRED = "required"
    INVALID_CHOICE = "invalid_choice"
    INVALID_DATE = "invalid_date"
    INVALID_NUMBER = "invalid_number"
    INVALID_CREDIT_CODE = "invalid_credit_code"
    INVALID_VALUE = "invalid_value"
    TOO_LONG = "too_long"
    DUPLICATE_IN_FILE = "duplicate_in_file"
    UNKNOWN_REFERENCE = "unknown_reference"
    AMBIGUOUS_REFERENCE = "ambiguous_reference"
    KEY_CONFLICT = "key_conflict"
    KEY_REQUIRED = "key_required"
    TOO_MANY_ROWS = "too_many_rows"
    CSV_MALFORMED = "csv_malformed"
    ARCHIVE_TOO_MANY_MEMBERS = "archive_too_many_members"
    ARCHIVE_TOO_LARGE_UNPACKED = "archive_too_large_unpacked"
    ARCHIVE_RATIO = "archive_ratio"
    ARCHIVE_SHARED_STRINGS = "archive_shared_strings"
    SHEET_TOO_MANY_ROWS = "sheet_too_many_rows"
    SHEET_TOO_MANY_CELLS = "sheet_too_many_cells"


WARNING_CODES = frozenset({ImportError.UNKNOWN_HEADER})

MESSAGES: dict[ImportError, Any] = {
    ImportError.FILE_NOT_READABLE: gettext_lazy(
        "The file “%(file)s” is not a valid Excel .xlsx workbook. Open it in Excel or WPS, save it as "
        "an .xlsx workbook (or as CSV) and upload it again."
    ),
    ImportError.FILE_ENCODING: gettext_lazy(
        "The CSV file “%(file)s” is neither UTF-8 nor GB18030 text. Save it as “CSV UTF-8” and upload it again."
    ),
    ImportError.UNSUPPORTED_FILE_TYPE: gettext_lazy(
        "Only .xlsx and .csv files can be imported (the file is “%(file)s”). Save older .xls workbooks as .xlsx."
    ),
    ImportError.FILE_TOO_LARGE: gettext_lazy("The file is %(size)s MB; files of at most %(limit)s MB can be imported."),
    ImportError.EMPTY_FILE: gettext_lazy("The file has no data rows below the header row."),
    ImportError.MISSING_HEADER: gettext_lazy(
        "Required column(s) missing: %(missing)s. The header row (row 1) has: %(found)s. "
        "Download the template to see the expected headers."
    ),
    ImportError.UNKNOWN_HEADER: gettext_lazy("Column(s) not recognised and ignored: %(headers)s."),
    ImportError.DUPLICATE_HEADER: gettext_lazy("The column “%(column)s” appears more than once (%(headers)s)."),
    ImportError.REQUIRED: gettext_lazy("a value is required."),
    ImportError.INVALID_CHOICE: gettext_lazy("“%(value)s” is not an allowed value; use one of: %(allowed)s."),
    ImportError.INVALID_DATE: gettext_lazy("“%(value)s” is not a date; write dates as YYYY-MM-DD, e.g. 2021-03-15."),
    ImportError.INVALID_NUMBER: gettext_lazy("“%(value)s” is not a number."),
    ImportError.INVALID_CREDIT_CODE: gettext_lazy("“%(value)s” is not a valid unified social credit code. %(detail)s"),
    ImportError.INVALID_VALUE: gettext_lazy("%(detail)s"),
    ImportError.TOO_LONG: gettext_lazy("the value has %(length)s characters; at most %(limit)s are allowed."),
    ImportError.DUPLICATE_IN_FILE: gettext_lazy(
        "“%(value)s” already appears in row %(other_row)s; each value of this column may appear only once in a file."
    ),
    ImportError.UNKNOWN_REFERENCE: gettext_lazy("no %(target)s matches “%(value)s”."),
    ImportError.AMBIGUOUS_REFERENCE: gettext_lazy(
        "“%(value)s” matches several %(target)s (%(matches)s); use the code instead."
    ),
    ImportError.KEY_CONFLICT: gettext_lazy(
        "the row matches the existing record “%(matched)s” by %(matched_by)s, but its code is “%(value)s”; "
        "codes are not changed by an import."
    ),
    ImportError.KEY_REQUIRED: gettext_lazy("one of %(columns)s is required: it identifies the record."),
    ImportError.TOO_MANY_ROWS: gettext_lazy(
        "The sheet has more than %(limit)s rows; at most %(limit)s data rows can be imported from one file. "
        "Split the data into several files (and delete empty rows at the end of the sheet)."
    ),
    ImportError.CSV_MALFORMED: gettext_lazy(
        "The CSV file “%(file)s” cannot be read (%(detail)s). Save it again as “CSV UTF-8” and upload it again."
    ),
    **{ImportError(code): message for code, message in uploads.MESSAGES.items()},
}
register_import_errors(ImportError, MESSAGES, warnings=WARNING_CODES)


class RowStatus(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    ERROR = "error"
    WARNING = "warning"


STATUS_LABELS = {
    RowStatus.CREATED: gettext_lazy("Created"),
    RowStatus.UPDATED: gettext_lazy("Updated"),
    RowStatus.UNCHANGED: gettext_lazy("Unchanged"),
    RowStatus.ERROR: gettext_lazy("Error"),
    RowStatus.WARNING: gettext_lazy("Warning"),
}


class CellProblem(Exception):
    """Raised by a parser or an importer: ``code`` with message ``params`` (for one column or row)."""

    def __init__(self, code: ImportErrorCode, field: str = "", **params: Any) -> None:
        super().__init__(code.value)
        self.code = code
        self.field = field
        self.params = params


class ImportRejected(Exception):
    """The apply found errors: nothing was written. ``report`` says what to change."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("import rejected")
        self.report = report


class ConfirmRefused(Exception):
    """A batch that is not a clean dry run cannot be confirmed."""


# --- cell parsers -------------------------------------------------------------------------------
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATORS = re.compile(r"[;；,，、\n]+")
NAME_LIST_SEPARATORS = re.compile(r"[;；\n]+")


def cell_text(value: Any) -> str:
    """A cell as trimmed text: integral floats lose their ``.0``; a protective leading ``'`` goes."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        value = value.date()
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_PREFIXES:
        text = text[1:]
    return text


def text_parser(max_length: int | None = None) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = cell_text(value)
        if max_length is not None and len(text) > max_length:
            raise CellProblem(ImportError.TOO_LONG, length=len(text), limit=max_length)
        return text

    return parse


def list_parser(separators: re.Pattern[str] = LIST_SEPARATORS, item_max_length: int | None = None):
    """``a; b，c、d`` → ``["a", "b", "c", "d"]`` (order kept, duplicates dropped)."""

    def parse(value: Any) -> list[str]:
        items: list[str] = []
        for item in separators.split(cell_text(value)):
            item = item.strip()
            if item_max_length is not None and len(item) > item_max_length:
                raise CellProblem(ImportError.TOO_LONG, length=len(item), limit=item_max_length)
            if item and item not in items:
                items.append(item)
        return items

    return parse


def normalise_label(text: Any) -> str:
    return _normalise_text(str(text))


@functools.lru_cache(maxsize=8192)
def _normalise_text(text: str) -> str:
    return WHITESPACE.sub("", unicodedata.normalize("NFKC", text).casefold())


WHITESPACE = re.compile(r"\s+")


def choice_labels(choices: Sequence[tuple[str, Any]], language: str = "zh-hans") -> list[str]:
    with translation.override(language):
        return [str(label) for _value, label in choices]


def choice_parser(choices: Sequence[tuple[str, Any]]) -> Callable[[Any], str]:
    """Accept the stored value or its label in Chinese or English (case- and space-insensitive)."""
    lookup: dict[str, str] = {}

    def build() -> None:
        for language in ("en", "zh-hans"):
            for (value, _label), label in zip(choices, choice_labels(choices, language), strict=True):
                lookup.setdefault(normalise_label(label), value)
        for value, _label in choices:
            lookup[normalise_label(value)] = value

    def parse(value: Any) -> str:
        if not lookup:
            build()
        text = cell_text(value)
        found = lookup.get(normalise_label(text))
        if found is None:
            allowed = choice_labels(choices, translation.get_language() or settings.LANGUAGE_CODE)
            raise CellProblem(ImportError.INVALID_CHOICE, value=text, allowed="、".join(allowed))
        return found

    return parse


def multi_choice_parser(choices: Sequence[tuple[str, Any]]) -> Callable[[Any], list[str]]:
    one = choice_parser(choices)
    split = list_parser()

    def parse(value: Any) -> list[str]:
        result: list[str] = []
        for item in split(value):
            parsed = one(item)
            if parsed not in result:
                result.append(parsed)
        return result

    return parse


DATE_PATTERN = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = cell_text(value)
    match = DATE_PATTERN.match(text)
    if match:
        try:
            return dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise CellProblem(ImportError.INVALID_DATE, value=text)


def parse_decimal(value: Any) -> decimal.Decimal:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return decimal.Decimal(str(value))
    text = cell_text(value).replace(",", "").replace("，", "")
    try:
        number = decimal.Decimal(text)
    except decimal.InvalidOperation:
        raise CellProblem(ImportError.INVALID_NUMBER, value=text) from None
    if not number.is_finite():
        raise CellProblem(ImportError.INVALID_NUMBER, value=text)
    return number


#: ``progress(done, total, message="")``: called while a long import runs (the job system shows it).
Progress = Callable[..., None]


# --- columns and importers ----------------------------------------------------------------------
@dataclass
class Column:
    """One column of an import: ``headers`` are the Chinese header, the English header, then aliases."""

    key: str
    headers: Sequence[str]
    required: bool = False
    parser: Callable[[Any], Any] = dataclasses.field(default_factory=text_parser)
    help: Any = ""
    choices: Sequence[tuple[str, Any]] | None = None
    default: Any = None
    example: str = ""
    width: int = 18
    is_text: bool = True  # formatted as text in the template (keeps leading zeros, long codes)

    @property
    def zh(self) -> str:
        return self.headers[0]

    @property
    def en(self) -> str:
        return self.headers[1] if len(self.headers) > 1 else self.headers[0]

    def header_text(self) -> str:
        """The header written to templates and exports: ``名称* / Name``."""
        return f"{self.zh}{'*' if self.required else ''} / {self.en}"

    def label(self) -> str:
        return self.en if (translation.get_language() or "").startswith("en") else self.zh

    def accepts(self, header: str) -> bool:
        return normalise_header(header) in self.normalised_headers() or any(
            normalise_header(part) in self.normalised_headers() for part in re.split(r"[/\n]", header)
        )

    def normalised_headers(self) -> set[str]:
        return {normalise_header(h) for h in [*self.headers, self.key]}

    def parse(self, raw: Any) -> Any:
        if cell_text(raw) == "":
            if self.required:
                raise CellProblem(ImportError.REQUIRED)
            return self.default
        return self.parser(raw)


def normalise_header(header: Any) -> str:
    return normalise_label(header).replace("*", "").replace("_", "")


class Importer:
    """What one kind of import needs to say; subclass it in the domain app and :func:`register` it."""

    kind: str = ""
    label: Any = ""
    data_sheet: str = "data"
    columns: Sequence[Column] = ()
    #: Columns whose values identify a record: a value may appear only once in a file.
    unique_columns: Sequence[str] = ("code",)
    #: Where to go after a confirmed import, the upload page and a batch's report page (URL names; the
    #: report page takes the batch's ``pk``).
    list_url_name: str = ""
    upload_url_name: str = ""
    batch_url_name: str = ""
    #: The registered permission action (``"<app>.<verb>"``) that allows this import; none allows nobody.
    permission: str = ""

    def permission_object(self) -> Any:
        """The object the :attr:`permission` is decided on (``None`` for an action about no object)."""
        return None

    def row_key(self, values: dict[str, Any]) -> str:
        return str(next((values[c] for c in self.unique_columns if values.get(c)), ""))

    def begin(self) -> None:
        """Called once before the rows of a run are read: load lookups here."""

    def check_row(self, values: dict[str, Any]) -> None:
        """Cross-column checks before writing; raise :class:`CellProblem`."""

    def apply_row(self, values: dict[str, Any], *, actor: User | None) -> tuple[RowStatus, dict[str, Any]]:
        """Write one row through the domain services; return its status and the changes."""
        raise NotImplementedError

    #: A bulk importer writes all rows in :meth:`apply_rows` (set-based queries, bulk inserts) and its
    #: writes are audited as ONE ``import`` event listing every created and updated record.
    bulk: bool = False

    def apply_rows(self, rows: list[tuple[int, dict[str, Any]]], *, actor: User | None, report: ImportReport,
                   progress: Progress | None = None, write: bool = True) -> list[list[Any]]:
        """Bulk importers: write ``rows``, add one :class:`RowResult` (or problems) per row to ``report``
        and return the audit lines ``[row, status, object id, key, changes]`` of created and updated rows.
        With ``write=False`` (a dry run) compute the same outcomes without writing."""
        raise NotImplementedError

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


#: Importer classes by kind; a new instance serves each run, so it may cache lookups.
IMPORTERS: dict[str, type[Importer]] = {}


def register(importer: type[Importer]) -> type[Importer]:
    IMPORTERS[importer.kind] = importer
    return importer


# --- the report ---------------------------------------------------------------------------------
@dataclass
class RowResult:
    """One line of the report: a row's outcome, or one problem of a row (or of the file: row None)."""

    row: int | None
    status: str
    key: str = ""
    field: str = ""
    code: str = ""
    message: str = ""
    changes: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def is_error(self) -> bool:
        return self.status == RowStatus.ERROR

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[RowStatus(self.status)])


@dataclass
class ImportReport:
    kind: str
    file_name: str
    results: list[RowResult] = dataclasses.field(default_factory=list)
    sheet: str = ""

    def add_problem(self, *, row: int | None, problem: CellProblem, label: str = "", key: str = "") -> None:
        status = RowStatus.WARNING if problem.code.is_warning else RowStatus.ERROR
        message = problem.code.message(**problem.params)
        if row is not None and label:
            message = _("Row %(row)s, %(field)s: %(problem)s") % {"row": row, "field": label, "problem": message}
        elif row is not None:
            message = _("Row %(row)s: %(problem)s") % {"row": row, "problem": message}
        self.results.append(
            RowResult(row=row, status=status.value, key=key, field=label, code=problem.code.value, message=message)
        )

    @property
    def file_issues(self) -> list[RowResult]:
        return [r for r in self.results if r.row is None]

    @property
    def has_errors(self) -> bool:
        return any(r.is_error for r in self.results)

    @property
    def counts(self) -> dict[str, int]:
        counts = {status.value: 0 for status in RowStatus}
        error_rows: set[int | None] = set()
        for result in self.results:
            if result.is_error:
                error_rows.add(result.row)
            elif result.status != RowStatus.WARNING:
                counts[result.status] += 1
            else:
                counts[RowStatus.WARNING] += 1
        counts[RowStatus.ERROR] = len(error_rows)
        return counts

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "file_name": self.file_name, "sheet": self.sheet,
                "results": [dict(r.__dict__) for r in self.results], "counts": self.counts}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportReport:
        return cls(kind=data.get("kind", ""), file_name=data.get("file_name", ""), sheet=data.get("sheet", ""),
                   results=[RowResult(**r) for r in data.get("results", [])])


# --- reading files ------------------------------------------------------------------------------
DEFAULT_MAX_ROWS = 200_000
DEFAULT_MAX_CELLS = 6_000_000


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[Any]]]  # (row number as in Excel, cell values)
    sheet: str = ""


def _trim(values: Iterable[Any]) -> list[Any]:
    cells = list(values)
    while cells and cell_text(cells[-1]) == "":
        cells.pop()
    return cells


def max_rows() -> int:
    """The most data rows one file may hold (setting ``IMPORT_MAX_ROWS``)."""
    return int(getattr(settings, "IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def max_cells() -> int:
    """The most cells one sheet may hold (setting ``IMPORT_MAX_CELLS``)."""
    return int(getattr(settings, "IMPORT_MAX_CELLS", DEFAULT_MAX_CELLS))


def _table_from_rows(rows: Iterator[Sequence[Any]], sheet: str = "") -> Table:
    """Header and data rows; stops reading (:data:`ImportError.TOO_MANY_ROWS`) past the row cap.

    Every row read counts, empty ones too, so a sheet of millions of empty rows stops at the cap.
    """
    headers: list[str] | None = None
    data: list[tuple[int, list[Any]]] = []
    limit = max_rows()
    for number, values in enumerate(rows, start=1):
        if number > limit + 1:
            raise CellProblem(ImportError.TOO_MANY_ROWS, limit=limit)
        cells = _trim(values)
        if headers is None:
            headers = [cell_text(c) for c in cells]
            continue
        if cells:
            data.append((number, cells))
    return Table(headers=headers or [], rows=data, sheet=sheet)


def _header_score(headers: Sequence[Any], columns: Sequence[Column]) -> int:
    return sum(1 for c in columns if any(c.accepts(cell_text(h)) for h in headers if cell_text(h)))


def _read_xlsx(content: bytes, file_name: str, importer: Importer) -> Table:
    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise CellProblem(ImportError.FILE_NOT_READABLE, file=file_name)
    unsafe = uploads.zip_problem(content, file_name, max_rows=max_rows() + 1, max_cells=max_cells())
    if unsafe is not None and unsafe.code == "sheet_too_many_rows":
        raise CellProblem(ImportError.TOO_MANY_ROWS, limit=max_rows())
    if unsafe is not None:
        raise CellProblem(ImportError(unsafe.code), **unsafe.params)
    try:
        return _read_xlsx_fast(content, importer)
    except xlsx_reader.UnsupportedWorkbook:
        return _read_xlsx_openpyxl(content, file_name, importer)


def _pick_sheet(sheets: Sequence[Any], title: Callable[[Any], str], first_row: Callable[[Any], Sequence[Any]],
                importer: Importer) -> Any:
    """The sheet named like the importer's data sheet, else the first whose header row has every
    required column, else the one whose header row matches most columns."""
    wanted = normalise_label(importer.data_sheet)
    named = [ws for ws in sheets if normalise_label(title(ws)) == wanted]
    required = [c for c in importer.columns if c.required]
    best, best_score = None, -1
    for ws in named + [ws for ws in sheets if ws not in named]:
        first = first_row(ws)
        score = _header_score(first, importer.columns)
        if ws in named or (score and all(any(c.accepts(cell_text(h)) for h in first) for c in required)):
            return ws
        if score > best_score:
            best, best_score = ws, score
    return best


def _read_xlsx_fast(content: bytes, importer: Importer) -> Table:
    workbook = xlsx_reader.Workbook(content)
    try:
        best = _pick_sheet(workbook.sheets, lambda ws: ws.title,
                           lambda ws: next(workbook.rows(ws), []), importer)
        if best is None:
            raise CellProblem(ImportError.EMPTY_FILE)
        try:
            return _table_from_rows(workbook.rows(best), sheet=best.title)
        except CellProblem:
            raise
        except Exception as exc:  # lxml syntax errors and the like: let openpyxl decide
            raise xlsx_reader.UnsupportedWorkbook(str(exc)) from exc
    finally:
        workbook.close()


def _read_xlsx_openpyxl(content: bytes, file_name: str, importer: Importer) -> Table:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on damaged files
        raise CellProblem(ImportError.FILE_NOT_READABLE, file=file_name) from None
    try:
        sheets = [ws for ws in workbook.worksheets if hasattr(ws, "iter_rows")]
        for ws in sheets:
            ws.reset_dimensions()
        best = _pick_sheet(sheets, lambda ws: ws.title,
                           lambda ws: next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ()), importer)
        if best is None:
            raise CellProblem(ImportError.EMPTY_FILE)
        return _table_from_rows(best.iter_rows(values_only=True), sheet=best.title)
    except CellProblem:
        raise
    except Exception:
        raise CellProblem(ImportError.FILE_NOT_READABLE, file=file_name) from None
    finally:
        workbook.close()


def _decode_csv(content: bytes, file_name: str) -> str:
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", errors="strict")
    for encoding in ("utf-8", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise CellProblem(ImportError.FILE_ENCODING, file=file_name)


def _read_csv(content: bytes, file_name: str) -> Table:
    try:
        text = _decode_csv(content, file_name)
    except UnicodeDecodeError:
        raise CellProblem(ImportError.FILE_ENCODING, file=file_name) from None
    first_line = text.split("\n", 1)[0]
    try:
        delimiter = csv.Sniffer().sniff(first_line, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = max(",;\t", key=first_line.count)
    try:
        return _table_from_rows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:  # e.g. a field longer than csv.field_size_limit()
        raise CellProblem(ImportError.CSV_MALFORMED, file=file_name, detail=str(exc)[:200]) from None


def read_table(content: bytes, file_name: str, importer: Importer) -> Table:
    """The header row and data rows of an uploaded file; raises :class:`CellProblem` for file problems."""
    limit = settings.IMPORT_MAX_BYTES
    if len(content) > limit:
        raise CellProblem(ImportError.FILE_TOO_LARGE, size=f"{len(content) / 1048576:.1f}",
                          limit=f"{limit / 1048576:.0f}")
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if extension in ("xlsx", "xlsm"):
        return _read_xlsx(content, file_name, importer)
    if extension in ("csv", "txt"):
        return _read_csv(content, file_name)
    raise CellProblem(ImportError.UNSUPPORTED_FILE_TYPE, file=file_name)


# --- dry run and apply --------------------------------------------------------------------------
def _map_headers(table: Table, importer: Importer, report: ImportReport) -> dict[str, int] | None:
    mapping: dict[str, int] = {}
    unknown: list[str] = []
    for index, header in enumerate(table.headers):
        if not header:
            continue
        column = next((c for c in importer.columns if c.accepts(header)), None)
        if column is None:
            unknown.append(header)
        elif column.key in mapping:
            report.add_problem(row=None, problem=CellProblem(
                ImportError.DUPLICATE_HEADER, field=column.key, column=column.label(),
                headers=f"{table.headers[mapping[column.key]]}, {header}"))
        else:
            mapping[column.key] = index
    missing = [c for c in importer.columns if c.required and c.key not in mapping]
    if missing:
        found = "、".join(h for h in table.headers if h) or _("(none)")
        report.add_problem(row=None, problem=CellProblem(
            ImportError.MISSING_HEADER, missing="、".join(c.header_text() for c in missing), found=found))
    if unknown:
        report.add_problem(row=None, problem=CellProblem(ImportError.UNKNOWN_HEADER, headers="、".join(unknown)))
    return None if report.has_errors else mapping


def _parse_rows(table: Table, mapping: dict[str, int], importer: Importer, report: ImportReport,
                progress: Progress | None = None) -> list[tuple[int, dict[str, Any]]]:
    parsed: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, dict[Any, int]] = {key: {} for key in importer.unique_columns}
    columns = [(key, index, importer.column(key)) for key, index in mapping.items()]
    total = len(table.rows)
    for position, (number, cells) in enumerate(table.rows, start=1):
        if progress is not None and (position % 2000 == 0 or position == total):
            progress(position, total, _("Checking rows"))
        values: dict[str, Any] = {}
        problems: list[tuple[Column | None, CellProblem]] = []
        for key, index, column in columns:
            try:
                values[key] = column.parse(cells[index] if index < len(cells) else None)
            except CellProblem as problem:
                problems.append((column, problem))
        if not problems:
            try:
                importer.check_row(values)
            except CellProblem as problem:
                problems.append((importer.column(problem.field) if problem.field else None, problem))
        for key in importer.unique_columns:
            value = values.get(key)
            if key in mapping and value:
                marker = normalise_label(value)
                if marker in seen[key]:
                    problems.append((importer.column(key), CellProblem(
                        ImportError.DUPLICATE_IN_FILE, value=value, other_row=seen[key][marker])))
                else:
                    seen[key][marker] = number
        row_key = importer.row_key(values) if values else ""
        for column, problem in problems:
            report.add_problem(row=number, problem=problem, label=column.label() if column else "", key=row_key)
        if not problems:
            parsed.append((number, values))
    return parsed


def validation_problems(exc: ValidationError, importer: Importer) -> list[tuple[str, CellProblem]]:
    keys = {c.key for c in importer.columns}
    if hasattr(exc, "error_dict"):
        return [
            (name if name in keys else "", CellProblem(ImportError.INVALID_VALUE, detail=" ".join(messages)))
            for name, messages in exc.message_dict.items()
        ]
    return [("", CellProblem(ImportError.INVALID_VALUE, detail=" ".join(exc.messages)))]


class _Rollback(Exception):
    pass


def _run(importer: Importer, *, content: bytes, file_name: str, actor: User | None, commit: bool,
         progress: Progress | None = None, audit_obj: Any = None,
         audit_changes: dict[str, Any] | None = None) -> ImportReport:
    report = ImportReport(kind=importer.kind, file_name=file_name)
    rows = _read_rows(importer, content=content, file_name=file_name, report=report, progress=progress)
    if rows:
        _write_rows(importer, rows, actor=actor, commit=commit, report=report, progress=progress,
                    audit_obj=audit_obj, audit_changes=audit_changes)
    report.results.sort(key=lambda r: (r.row or 0, r.status != RowStatus.ERROR))
    if commit and report.has_errors:
        raise ImportRejected(report)
    return report


def _read_rows(importer: Importer, *, content: bytes, file_name: str, report: ImportReport,
               progress: Progress | None = None) -> list[tuple[int, dict[str, Any]]]:
    """The parsed rows without problems; file and cell problems go to ``report``."""
    if progress is not None:
        progress(0, 0, _("Reading the file"))
    try:
        table = read_table(content, file_name, importer)
    except CellProblem as problem:
        report.add_problem(row=None, problem=problem)
        return []
    report.sheet = table.sheet
    importer.begin()
    mapping = _map_headers(table, importer, report)
    if mapping is None:
        return []
    if not table.rows:
        report.add_problem(row=None, problem=CellProblem(ImportError.EMPTY_FILE))
        return []
    return _parse_rows(table, mapping, importer, report, progress=progress)


PROGRESS_EVERY = 500


def _write_rows(importer: Importer, rows: list[tuple[int, dict[str, Any]]], *, actor: User | None, commit: bool,
                report: ImportReport, progress: Progress | None = None, audit_obj: Any = None,
                audit_changes: dict[str, Any] | None = None) -> None:
    """Write the rows (bulk, or each in a savepoint); roll everything back unless committing an
    error-free file. A committed import is audited as one ``import`` event: ``audit_changes`` plus the
    counts and, for bulk importers, one line per created or updated record."""
    total = len(rows)
    step = _("Writing rows") if commit else _("Rehearsing the writes")
    if progress is not None:
        outer = progress

        def progress(done: int, total: int, message: str = "") -> None:
            outer(done, total, message or step)

    try:
        with transaction.atomic():
            audit_rows: list[list[Any]] = []
            if importer.bulk:
                try:
                    with transaction.atomic():
                        audit_rows = importer.apply_rows(rows, actor=actor, report=report, progress=progress,
                                                         write=commit)
                except IntegrityError as exc:  # a race with another writer: nothing of this run is kept
                    report.add_problem(row=None, problem=CellProblem(ImportError.INVALID_VALUE,
                                                                     detail=str(exc).splitlines()[0][:300]))
            else:
                for done, (number, values) in enumerate(rows, start=1):
                    _write_row(importer, number, values, actor=actor, report=report)
                    if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
                        progress(done, total)
            if not commit or report.has_errors:
                raise _Rollback
            if audit_obj is not None or (importer.bulk and audit_rows):
                counts = report.counts
                changes = {**(audit_changes or {"kind": importer.kind, "file": report.file_name}),
                           "created": counts[RowStatus.CREATED], "updated": counts[RowStatus.UPDATED],
                           "unchanged": counts[RowStatus.UNCHANGED]}
                if importer.bulk:
                    changes["rows"] = audit_rows
                audit_record(action=AuditAction.IMPORT, actor=actor, obj=audit_obj,
                             object_type="" if audit_obj is not None else importer.kind,
                             object_repr="" if audit_obj is not None else report.file_name, changes=changes)
    except _Rollback:
        pass


def _write_row(importer: Importer, number: int, values: dict[str, Any], *, actor: User | None,
               report: ImportReport) -> None:
    key = importer.row_key(values)
    try:
        with transaction.atomic():
            status, changes = importer.apply_row(values, actor=actor)
    except CellProblem as problem:
        label = importer.column(problem.field).label() if problem.field else ""
        report.add_problem(row=number, problem=problem, label=label, key=key)
    except ValidationError as exc:
        for name, problem in validation_problems(exc, importer):
            report.add_problem(row=number, problem=problem,
                               label=importer.column(name).label() if name else "", key=key)
    else:
        report.results.append(RowResult(row=number, status=status.value, key=key, changes=changes))


def dry_run(importer: Importer, *, content: bytes, file_name: str, actor: User | None,
            progress: Progress | None = None) -> ImportReport:
    """Validate and rehearse every write, then roll back: the report of what a confirm would do."""
    return _run(importer, content=content, file_name=file_name, actor=actor, commit=False, progress=progress)


def apply(importer: Importer, *, content: bytes, file_name: str, actor: User | None, progress: Progress | None = None,
          audit_obj: Any = None, audit_changes: dict[str, Any] | None = None) -> ImportReport:
    """Validate and write every row in one transaction; raise :class:`ImportRejected` (nothing written)
    when any row fails. ``audit_obj``/``audit_changes`` describe the one ``import`` event."""
    return _run(importer, content=content, file_name=file_name, actor=actor, commit=True, progress=progress,
                audit_obj=audit_obj, audit_changes=audit_changes)


# --- services over ImportBatch ------------------------------------------------------------------
def may_import(importer: Importer, user: Any) -> bool:
    """Whether ``user`` may run ``importer``: its registered :attr:`Importer.permission` decides."""
    return bool(importer.permission) and permissions.has_perm(user, importer.permission, importer.permission_object())


def require_import(importer: Importer, user: Any) -> None:
    """Raise ``PermissionDenied`` unless ``user`` may run ``importer``."""
    permissions.require(may_import(importer, user))


def _store_report(batch: ImportBatch, report: ImportReport) -> None:
    counts = report.counts
    batch.report = report.to_json()
    batch.created_count = counts[RowStatus.CREATED]
    batch.updated_count = counts[RowStatus.UPDATED]
    batch.unchanged_count = counts[RowStatus.UNCHANGED]
    batch.error_count = counts[RowStatus.ERROR]


@transaction.atomic
def _import_batch_create(*, importer: Importer, file_name: str, content: bytes, actor: User | None,
                        check_permission: bool, progress: Progress | None = None) -> ImportBatch:
    """Store an upload and its dry-run report (status ``dry_run``, or ``rejected`` when it has errors)."""
    if check_permission:
        require_import(importer, actor)
    file_name = (file_name or "upload").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255]
    report = dry_run(importer, content=content, file_name=file_name, actor=actor, progress=progress)
    batch = ImportBatch(
        kind=importer.kind, file_name=file_name, sha256=hashlib.sha256(content).hexdigest(), size=len(content),
        content=content, uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        status=ImportStatus.REJECTED if report.has_errors else ImportStatus.DRY_RUN,
    )
    _store_report(batch, report)
    batch.full_clean(exclude=["content", "report"])
    batch.save()
    return batch


def import_batch_create(
    *,
    importer: Importer,
    file_name: str,
    content: bytes,
    actor: User | None,
    progress: Progress | None = None,
) -> ImportBatch:
    """:func:`_import_batch_create` for a user: the actor's permission is checked first."""
    return _import_batch_create(importer=importer, file_name=file_name, content=content, actor=actor,
                                progress=progress, check_permission=True)


def import_batch_create_unchecked(**kwargs: Any) -> ImportBatch:
    """Internal: :func:`import_batch_create` without the permission check (importers, services that checked already)."""
    return _import_batch_create(**kwargs, check_permission=False)


def _import_batch_confirm(*, batch: ImportBatch, actor: User | None, check_permission: bool,
                         progress: Progress | None = None) -> ImportReport:
    """Apply a clean dry run in one transaction, audited as one ``import`` event (bulk importers list
    every created and updated record in it; the others also audit each row through their services).

    Refused (:class:`ConfirmRefused`) unless the batch is an error-free dry run. When the apply
    finds errors (the data changed since the dry run), nothing is written, the batch becomes
    ``failed`` with the new report, and :class:`ImportRejected` is raised.
    """
    importer = IMPORTERS[batch.kind]()
    if check_permission:
        require_import(importer, actor)
    if batch.status != ImportStatus.DRY_RUN or ImportReport.from_json(batch.report).has_errors:
        raise ConfirmRefused(_("Only an import whose dry run has no errors can be confirmed."))
    try:
        with transaction.atomic():
            locked = ImportBatch.objects.select_for_update().defer("report").get(pk=batch.pk)
            if locked.status != ImportStatus.DRY_RUN:
                raise ConfirmRefused(_("This import has already been confirmed."))
            report = apply(importer, content=bytes(locked.content), file_name=locked.file_name, actor=actor,
                           progress=progress, audit_obj=locked,
                           audit_changes={"kind": locked.kind, "file": locked.file_name, "sha256": locked.sha256})
            _store_report(locked, report)
            locked.status = ImportStatus.CONFIRMED
            locked.confirmed_at = timezone.now()
            locked.save(update_fields=["report", "created_count", "updated_count", "unchanged_count", "error_count",
                                       "status", "confirmed_at", "updated_at"])  # not the file again
    except ImportRejected as rejected:
        _store_report(batch, rejected.report)
        batch.status = ImportStatus.FAILED
        batch.save(update_fields=["report", "created_count", "updated_count", "unchanged_count", "error_count",
                                  "status", "updated_at"])
        raise
    batch.refresh_from_db(fields=["report", "created_count", "updated_count", "unchanged_count", "error_count",
                                  "status", "confirmed_at", "updated_at"])
    return report


def import_batch_confirm(
    *,
    batch: ImportBatch,
    actor: User | None,
    progress: Progress | None = None,
) -> ImportReport:
    """:func:`_import_batch_confirm` for a user: the actor's permission is checked first."""
    return _import_batch_confirm(batch=batch, actor=actor, progress=progress, check_permission=True)


def import_batch_confirm_unchecked(**kwargs: Any) -> ImportReport:
    """Internal: :func:`import_batch_confirm` without the permission check (importers, services that checked already)."""
    return _import_batch_confirm(**kwargs, check_permission=False)
