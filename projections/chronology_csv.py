"""The chronology as CSV: one column list and one writer for the API's and the web's downloads."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping

from contentdisp import build, safe_filename

CSV_COLUMNS = (
    "occurred_on",
    "date_uncertain",
    "children",
    "source_agency",
    "source_professional",
    "what_happened",
    "kind",
    "verification",
    "significance",
    "action_taken",
    "outcome",
    "recorded_by",
    "recorded_at",
    "version",
)


def spreadsheet_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (free text starting with = + - @)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def chronology_csv(rows: Iterable[Mapping[str, str]]) -> str:
    """Rows (named as CSV_COLUMNS, names already given for ids) as CSV text with a header."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: spreadsheet_safe(v) for k, v in row.items()})
    return buffer.getvalue()


def csv_disposition(reference: str) -> str:
    """The Content-Disposition of a family's chronology download (RFC 6266).

    The reference is whatever people typed: the file name keeps it exactly in `filename*`
    (RFC 8187 UTF-8, so `Zoë😀` survives) beside an ASCII `filename` for old agents; quotes
    cannot add parameters and control characters (from references recorded before they were
    refused) are dropped, so the header is always valid.
    """
    return build("attachment", safe_filename(f"chronology-{reference}.csv", default="chronology.csv"))
