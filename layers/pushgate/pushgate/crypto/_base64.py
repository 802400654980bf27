"""Base64 in every spelling the wire uses (standard or URL-safe, padded or not), strictly."""

from __future__ import annotations

import base64
import binascii

_URL_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def b64decode(text: str | bytes) -> bytes:
    """Decode standard or URL-safe base64, with or without padding.

    Raises `ValueError` for anything else: characters outside the alphabets, padding in the
    wrong place or of the wrong length, an impossible length.
    """
    if isinstance(text, str):
        data = text.encode("ascii")  # UnicodeEncodeError is a ValueError
    elif isinstance(text, bytes | bytearray):
        data = bytes(text)
    else:
        raise ValueError("base64 input must be str or bytes")
    unpadded = data.rstrip(b"=")
    padding = len(data) - len(unpadded)
    if padding and (len(data) % 4 or padding > 2):
        raise ValueError("bad base64 padding")
    if len(unpadded) % 4 == 1:
        raise ValueError("bad base64 length")
    standard = unpadded.translate(_URL_TO_STANDARD) + b"=" * (-len(unpadded) % 4)
    try:
        # strict_mode refuses characters outside the alphabet and misplaced padding.
        return binascii.a2b_base64(standard, strict_mode=True)
    except binascii.Error as error:
        raise ValueError("not base64") from error


def b64url_encode(data: bytes) -> str:
    """URL-safe base64 without padding (RFC 7515 §2, RFC 8292 §3.2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
