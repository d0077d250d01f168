import gzip
import json

import pytest

from wizwatch.errors import InvalidPage
from wizwatch.parse.pages import UnreadableRecord, read_page, read_records


def page(nodes: object, connection: str = "auditLogEntries") -> bytes:
    body = {"data": {connection: {"nodes": nodes, "pageInfo": {"hasNextPage": False, "endCursor": None}}}}
    return json.dumps(body).encode()


def test_gzip_and_plain_pages_give_the_nodes_and_connection() -> None:
    for body in (page([{"id": "a"}]), gzip.compress(page([{"id": "a"}]))):
        p = read_page(body)
        assert p.records == [{"id": "a"}]
        assert p.connection == "auditLogEntries"
        assert p.page_info == {"hasNextPage": False, "endCursor": None}


def test_null_nodes_is_an_empty_page() -> None:
    assert read_page(page(None, "issues")).records == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\x1f\x8b not really gzip", "corrupt gzip"),
        (b"{nope", "not JSON"),
        (b"[1, 2]", "expected an object"),
        (json.dumps({"errors": [{"message": "boom"}]}).encode(), "errors"),
        (json.dumps({"data": {"x": {"edges": []}}}).encode(), "no connection"),
        (json.dumps({"data": {"x": {"nodes": {}}}}).encode(), "expected a list"),
    ],
)
def test_unreadable_pages_raise_with_the_reason(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidPage, match=reason):
        read_page(body)


def test_read_records_accepts_arrays_json_lines_single_records_and_pages() -> None:
    assert read_records(b'[{"id": 1}, {"id": 2}]').records == [{"id": 1}, {"id": 2}]
    assert read_records(b'{"id": 1}\n\n{"id": 2}\n').records == [{"id": 1}, {"id": 2}]
    assert read_records(b'{"id": 1}').records == [{"id": 1}]
    assert read_records(gzip.compress(page([{"id": 3}]))).records == [{"id": 3}]
    assert read_records(b"  ").records == []
    # A line that is not JSON is that record's problem alone.
    lines = read_records(b'{"id": 1}\n{bad\n{"id": 3}\n').records
    assert lines[0] == {"id": 1} and lines[2] == {"id": 3}
    assert isinstance(lines[1], UnreadableRecord) and lines[1].reason.startswith("line 2: not JSON")
    assert lines[1].raw == "{bad"
