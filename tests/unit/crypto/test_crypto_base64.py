"""The one base64 decoder: every spelling the wire uses, and nothing else."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pushgate.crypto._base64 import b64decode, b64url_encode


@settings(deadline=None)
@given(data=st.binary(max_size=80))
def test_b64decode_reads_every_spelling(data: bytes) -> None:
    spellings = {
        base64.b64encode(data),
        base64.b64encode(data).rstrip(b"="),
        base64.urlsafe_b64encode(data),
        base64.urlsafe_b64encode(data).rstrip(b"="),
    }

    assert {b64decode(spelling.decode()) for spelling in spellings} == {data}


@settings(deadline=None)
@given(data=st.binary(max_size=80))
def test_b64url_encode_writes_unpadded_url_safe_base64(data: bytes) -> None:
    encoded = b64url_encode(data)

    assert "=" not in encoded
    assert "+" not in encoded
    assert "/" not in encoded
    assert b64decode(encoded) == data


@pytest.mark.parametrize(
    "text",
    ["QQ=", "Q===", "QQ===", "QQ=a", "=QQ=", "Q", "QUJD\n", " QUJD", "QU JD", "QU*D", "é", None],
)
def test_b64decode_refuses_what_is_not_base64(text: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the module documents ValueError
        b64decode(text)  # type: ignore[arg-type]
