"""Opaque cursors for lists paged in the API process: a short JSON key, base64url without padding.

The same form as the watchlist's cursors; a cursor this API did not give answers 422 `cursor_invalid`.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from api.errors import ApiError


def bad_cursor() -> ApiError:
    """422 naming the cursor."""
    return ApiError(
        422,
        "cursor is not one this API gave out",
        rule="cursor_invalid",
        errors=[{"loc": ["query", "cursor"], "msg": "unknown cursor"}],
    )


def encode_key(key: list[Any]) -> str:
    """The cursor of a page that starts after `key`."""
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_key(cursor: str | None, length: int) -> list[Any] | None:
    """The key a cursor holds (None for the first page); 422 unless it is a list of `length` items."""
    if cursor is None or cursor == "":
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad_cursor() from None
    if not isinstance(key, list) or len(key) != length:
        raise bad_cursor()
    return key


def offset_of(cursor: str | None) -> int:
    """Where a page starts in a list computed whole (0 for the first page)."""
    key = decode_key(cursor, 1)
    if key is None:
        return 0
    if not isinstance(key[0], int) or isinstance(key[0], bool) or not 0 <= key[0] <= 10**9:
        raise bad_cursor()
    return int(key[0])


def next_offset(start: int, limit: int, total: int) -> str | None:
    """The cursor of the page after `start`, or None when this page is the last."""
    return encode_key([start + limit]) if total > start + limit else None
