"""gzip for the objects the detector writes on every page: the lake copy and the kept matches.

Own choice, not the standard library's ``gzip.compress``: writing the lake copy is on the path of
every page, and zlib's deflate was the largest single cost of ``Detector.process`` on Wiz.Audit
(~30% of it at level 6). ISA-L (Intel's storage acceleration library, the ``isal`` wheel: manylinux
x86_64 and aarch64, so it installs for the arm64 Lambda like orjson does) writes the same gzip
format (RFC 1952) much faster. Measured on 5.2 MB of lake JSON lines (Audit and Issues pages,
best of 3, CPU):

==================  =======  ===========
compressor           ms       raw/gzip
==================  =======  ===========
zlib level 6         49.4     7.41
zlib level 3         22.8     6.43
zlib level 1         21.6     5.94
ISA-L level 2         5.2     6.28
ISA-L level 3        14.1     6.38
==================  =======  ===========

ISA-L level 2 (its default) is ~10x cheaper than zlib 6 for ~18% more bytes, which Athena bills
as bytes scanned (the lake copy of a month of a large tenant's Wiz data is a few GB: cents). Any
gzip reader reads the objects (Athena, DuckDB, ``gzip -d``): the format is unchanged; a test
reads them back with the standard library. Raw pages (written once by the poller, kept for
years) stay at zlib level 6 (``archive.writer``).
"""

from __future__ import annotations

from isal import igzip

#: ISA-L compression level for the objects the detector writes (0-3; 2 is ISA-L's default).
LEVEL = 2


def gzip_fast(body: bytes) -> bytes:
    """``body`` as one gzip member (RFC 1952), mtime 0 so equal bodies give equal objects."""
    return igzip.compress(body, LEVEL, mtime=0)
