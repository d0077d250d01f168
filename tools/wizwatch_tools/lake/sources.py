"""Where an archive is: a local folder laid out like the bucket, or ``s3://bucket[/prefix]``.

Both give the same three operations on keys relative to the archive root (``raw/...``,
``lake/...``, ``matches/...``): list objects under a prefix, list the "folders" one level down
(S3's delimiter listing, so a ``dt=`` partition that is not wanted is never listed), and read an
object. Every object read is remembered in :attr:`Archive.reads`, which is how the tests show
that a query read only the partitions its filter allows.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wizwatch.errors import WizwatchError


class ArchiveError(WizwatchError):
    """The archive cannot be opened or read (bad path, missing bucket, refused access)."""


@dataclass(frozen=True)
class ObjectInfo:
    """One object of the archive (``key`` relative to the archive root)."""

    key: str
    size: int
    last_modified: datetime


@dataclass
class Archive:
    """Common part of both archive kinds: the record of what was read."""

    uri: str
    reads: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _read(self, key: str) -> None:
        with self._lock:
            self.reads.append(key)

    # Implemented by the subclasses.
    def objects(self, prefix: str) -> Iterator[ObjectInfo]:
        raise NotImplementedError

    def folders(self, prefix: str) -> list[str]:
        """Names one level below ``prefix`` (``prefix`` ends with ``/``), sorted."""
        raise NotImplementedError

    def get(self, key: str) -> tuple[bytes, dict[str, str]]:
        """The object's bytes and user metadata (empty for a local folder)."""
        raise NotImplementedError

    #: True if :meth:`local_path` gives files DuckDB can open directly.
    is_local = False

    def local_path(self, key: str) -> Path | None:
        """A file DuckDB can open directly (counted as read), if the archive is a local folder."""
        return None

    def get_many(self, keys: list[str], *, workers: int = 8) -> Iterator[tuple[str, bytes, dict[str, str]]]:
        """``get`` for many keys, in order, ``workers`` at a time (network-bound for S3)."""
        if workers <= 1 or len(keys) <= 1:
            for key in keys:
                yield (key, *self.get(key))
            return
        with ThreadPoolExecutor(max_workers=workers) as pool:
            window = workers * 4  # bounded read-ahead: memory stays flat over any number of keys
            futures = [pool.submit(self.get, k) for k in keys[:window]]
            for i, key in enumerate(keys):
                body, meta = futures[i].result()
                futures[i] = None  # type: ignore[call-overload]
                if i + window < len(keys):
                    futures.append(pool.submit(self.get, keys[i + window]))
                yield key, body, meta


class LocalArchive(Archive):
    """A folder holding ``raw/``, ``lake/``, ``matches/``... as the bucket does."""

    is_local = True

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise ArchiveError(
                f"{root} is not a folder (expected one laid out like the bucket: raw/, lake/...)"
            )
        super().__init__(uri=str(root))
        self.root = root

    def objects(self, prefix: str) -> Iterator[ObjectInfo]:
        base = self.root / prefix.rstrip("/") if prefix else self.root
        if not base.exists():
            return
        paths = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in paths:
            key = path.relative_to(self.root).as_posix()
            if not key.startswith(prefix):
                continue
            st = path.stat()
            yield ObjectInfo(key, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))

    def folders(self, prefix: str) -> list[str]:
        base = self.root / prefix
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if p.is_dir())

    def get(self, key: str) -> tuple[bytes, dict[str, str]]:
        self._read(key)
        try:
            return (self.root / key).read_bytes(), {}
        except OSError as exc:
            raise ArchiveError(f"cannot read {self.root / key}: {exc}") from None

    def local_path(self, key: str) -> Path | None:
        self._read(key)
        return self.root / key


class S3Archive(Archive):
    """``s3://bucket[/prefix]`` on AWS, or on any S3 endpoint (a moto server) via ``endpoint_url``."""

    def __init__(self, bucket: str, prefix: str, client: Any) -> None:
        super().__init__(uri=f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client

    def _call(self, what: str, fn: Any, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise ArchiveError(f"{what} on {self.uri} failed: {code or exc}") from None
        except BotoCoreError as exc:
            raise ArchiveError(f"{what} on {self.uri} failed: {exc}") from None

    def objects(self, prefix: str) -> Iterator[ObjectInfo]:
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix + prefix}
            if token:
                kwargs["ContinuationToken"] = token
            resp = self._call("ListObjectsV2", self.client.list_objects_v2, **kwargs)
            for obj in resp.get("Contents", []):
                modified = obj["LastModified"]
                if modified.tzinfo is None:
                    modified = modified.replace(tzinfo=UTC)
                yield ObjectInfo(obj["Key"][len(self.prefix) :], int(obj.get("Size", 0)), modified)
            if not resp.get("IsTruncated"):
                return
            token = resp.get("NextContinuationToken")

    def folders(self, prefix: str) -> list[str]:
        names: list[str] = []
        token: str | None = None
        full = self.prefix + prefix
        while True:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": full, "Delimiter": "/"}
            if token:
                kwargs["ContinuationToken"] = token
            resp = self._call("ListObjectsV2", self.client.list_objects_v2, **kwargs)
            names += [p["Prefix"][len(full) :].rstrip("/") for p in resp.get("CommonPrefixes", [])]
            if not resp.get("IsTruncated"):
                return sorted(names)
            token = resp.get("NextContinuationToken")

    def get(self, key: str) -> tuple[bytes, dict[str, str]]:
        self._read(key)
        resp = self._call("GetObject", self.client.get_object, Bucket=self.bucket, Key=self.prefix + key)
        return resp["Body"].read(), dict(resp.get("Metadata") or {})


def inside(root: Path, key: str) -> Path:
    """``root / key``, refusing a key that would land outside ``root`` (S3 keys may hold ``..``)."""
    target = (root / key).resolve()
    if not key or key.startswith("/") or not target.is_relative_to(root.resolve()):
        raise ArchiveError(f"refusing object key {key!r}: it would be written outside {root}")
    return target


def add_archive_arguments(parser: Any) -> None:
    """``--archive`` and ``--endpoint-url``, as every lake command takes them."""
    parser.add_argument(
        "--archive", required=True, help="a folder laid out like the bucket, or s3://bucket[/prefix]"
    )
    parser.add_argument("--endpoint-url", help="S3 endpoint for s3:// (e.g. a moto server); default AWS")


def open_archive(src: str, *, endpoint_url: str | None = None) -> Archive:
    """``s3://bucket[/prefix]`` or a local folder; ArchiveError says what is wrong."""
    if src.startswith("s3://"):
        import boto3
        from botocore.config import Config

        bucket, _, prefix = src[len("s3://") :].partition("/")
        if not bucket:
            raise ArchiveError(f"{src!r}: expected s3://bucket[/prefix]")
        config = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=16)
        client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None, config=config
        )
        return S3Archive(bucket, prefix, client)
    if "://" in src:
        raise ArchiveError(f"{src!r}: an archive is a local folder or s3://bucket[/prefix]")
    return LocalArchive(Path(src).expanduser())


def copy_to_folder(client: Any, bucket: str, dest: Path, prefixes: tuple[str, ...] = ("",)) -> int:
    """Every object of ``bucket`` under ``prefixes`` as a file of ``dest`` laid out like the
    bucket, its modification time set to the object's LastModified (as ``aws s3 sync`` does, so
    ``wizwatch replay --clock archive`` over the folder sees when each page was archived)."""
    archive = S3Archive(bucket, "", client)
    count = 0
    for prefix in prefixes:
        objects = list(archive.objects(prefix))
        for info, (key, body, _) in zip(objects, archive.get_many([o.key for o in objects]), strict=True):
            target = inside(dest, key)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            stamp = info.last_modified.timestamp()
            os.utime(target, (stamp, stamp))
            count += 1
    return count
