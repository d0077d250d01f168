"""Gunzip an archived object without ever holding more than a fixed number of inflated bytes.

``gzip.decompress`` inflates whatever it is given: a 2.7 MB object that inflates to 600 MB took a
1,024 MB detector to 1.3 GB (the inflated bytes, plus the copies made on the way). Here the
object is inflated in steps with ``zlib.decompressobj(...).decompress(data, max_length)``, so no
step produces more than the bytes still allowed, and the first byte past the limit stops it with
:class:`~wizwatch.errors.InvalidPage` (the detector quarantines the object whole, with the reason).
Peak memory is about the limit plus the compressed object: the inflated text is kept in one
``bytearray`` that ``orjson.loads`` reads without a copy.

The limit (:data:`DEFAULT_MAX_INFLATED_BYTES`, 64 MiB; ``MAX_PAGE_MB`` in the detector's config):
a Wiz page holds at most 500 records (``first`` is capped at 500 for issues; 500 is the page size
the poller asks for). The largest real records are vulnerability findings with long descriptions
and layer metadata, about 10-20 KB each as JSON, so a real page is at most ~10 MB; push bodies
(webhooks) are capped at 1 MB by the webhook function. Parsed into Python objects a JSON text takes
about 5-8 times its size, so a 64 MiB page costs at most ~0.5 GB on top of the runtime (~150 MB
with the rules loaded): it fits a 1,024 MB detector with room to spare, while leaving 4-6 times
headroom over the largest real page. Raise it only together with the detector's ``MemorySize``.

Concatenated gzip members (RFC 1952 allows several) are inflated one after another against the
same limit, as ``gzip.decompress`` would; a body without the gzip magic is taken as plain JSON and
held to the same limit.
"""

from __future__ import annotations

import zlib

from wizwatch.errors import InvalidPage

GZIP_MAGIC = b"\x1f\x8b"
#: The default limit on an object's inflated size (see the module docstring for the reasoning).
DEFAULT_MAX_INFLATED_BYTES = 64 * 1024 * 1024
#: Inflate at most this much per step (bounds each step's allocation, not the total).
_STEP = 1024 * 1024
_MiB = 1024 * 1024


def _too_big(limit: int) -> InvalidPage:
    size = f"{limit / _MiB:g} MiB" if limit >= _MiB else f"{limit} bytes"
    return InvalidPage(
        f"inflates past the {size} limit for one page (MAX_PAGE_MB): refused before parsing "
        "(a real Wiz page is far smaller; a decompression bomb or a corrupt object)"
    )


def inflate(body: bytes, max_bytes: int = DEFAULT_MAX_INFLATED_BYTES) -> bytes | bytearray:
    """The object's JSON bytes: gunzipped when ``body`` is gzip, else ``body`` itself.

    Raises InvalidPage for corrupt gzip and for anything that would exceed ``max_bytes``.
    """
    if body[:2] != GZIP_MAGIC:
        if len(body) > max_bytes:
            raise _too_big(max_bytes)
        return body
    out = bytearray()
    data = memoryview(body)
    try:
        while True:
            d = zlib.decompressobj(wbits=31)  # 31: a gzip header and trailer are required
            pending: bytes | memoryview = data
            while not d.eof:
                room = max_bytes - len(out)
                chunk = d.decompress(pending, min(_STEP, room + 1))
                out += chunk
                if len(out) > max_bytes:
                    raise _too_big(max_bytes)
                pending = d.unconsumed_tail
                if not pending and not chunk and not d.eof:
                    # Every input byte consumed and nothing more comes out: the stream is cut short.
                    flushed = d.flush()
                    out += flushed
                    if len(out) > max_bytes:
                        raise _too_big(max_bytes)
                    if not d.eof:
                        raise InvalidPage("corrupt gzip: compressed data ended before the end of the stream")
            rest = d.unused_data
            if not rest.strip(b"\x00"):
                return out  # trailing zero padding is ignored, as gzip.decompress does
            if rest[:2] != GZIP_MAGIC:
                raise InvalidPage("corrupt gzip: unexpected bytes after the end of the gzip stream")
            data = memoryview(rest)
    except zlib.error as exc:
        raise InvalidPage(f"corrupt gzip: {exc}") from None
