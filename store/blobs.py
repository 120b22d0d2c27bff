"""The blob store: files addressed by their sha256, on any fsspec filesystem.

``file://`` (the default), ``az://container/prefix`` through adlfs, and
``memory://`` all behave the same. Keys are the hex sha256 of the content,
laid out fanned-out (``ab/cd/abcdef...``) so no folder grows huge.

Writes are atomic: on a local disk the bytes go to a temporary name in the
same folder and are renamed into place; on Azure a block blob only becomes
visible when its block list is committed, and in memory a write is a single
assignment, so in every case a reader sees the whole file or nothing.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from typing import IO, Any

import fsspec
from fsspec.utils import infer_storage_options

__all__ = ["BlobStore", "BlobNotFound", "sha256_hex"]

_CHUNK = 1024 * 1024


class BlobNotFound(KeyError):
    """No blob is stored under this key."""


def sha256_hex(data: bytes) -> str:
    """The hex sha256 of ``data``: the key a blob is stored under."""
    return hashlib.sha256(data).hexdigest()


def _valid_key(key: str) -> str:
    if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
        raise ValueError(f"not a blob key (sha256 hex expected): {key!r}")
    return key


class BlobStore:
    """Content-addressed files under one root URL.

    >>> blobs = BlobStore("memory://docs-example")
    >>> key = blobs.put(b"hello")
    >>> blobs.get(key)
    b'hello'
    """

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        self.url = url.rstrip("/")
        options = infer_storage_options(self.url)
        self.protocol = options["protocol"] if options["protocol"] != "file" or "://" in url else "file"
        self.fs, self.root = fsspec.core.url_to_fs(self.url, **(storage_options or {}))
        self.root = self.root.rstrip("/")
        if self.protocol in ("file", "local"):
            os.makedirs(self.root, exist_ok=True)
        elif self.protocol in ("az", "abfs", "abfss"):
            container = self.root.split("/", 1)[0]
            if not self.fs.exists(container):
                self.fs.mkdir(container)

    def path(self, key: str) -> str:
        """Where the blob with this key lives on the filesystem."""
        key = _valid_key(key)
        return f"{self.root}/{key[:2]}/{key[2:4]}/{key}"

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its key; storing the same bytes twice is a no-op."""
        key = sha256_hex(data)
        target = self.path(key)
        if self.fs.exists(target):
            return key
        if self.protocol in ("file", "local"):
            folder = os.path.dirname(target)
            os.makedirs(folder, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=folder, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp, target)
            except BaseException:
                if os.path.exists(temp):
                    os.unlink(temp)
                raise
        else:
            self.fs.pipe_file(target, data)
        return key

    def put_file(self, handle: IO[bytes]) -> str:
        """Store a (possibly large) file-like object in chunks and return its key."""
        digest = hashlib.sha256()
        staging = f"{self.root}/.incoming/{uuid.uuid4().hex}"
        self._make_parent(staging)
        with self.fs.open(staging, "wb") as out:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
        key = digest.hexdigest()
        target = self.path(key)
        if self.fs.exists(target):
            self.fs.rm(staging)
        else:
            self._make_parent(target)
            self.fs.mv(staging, target)
        return key

    def _make_parent(self, path: str) -> None:
        # Object stores have no folders; a local disk needs them before a write.
        if self.protocol in ("file", "local"):
            os.makedirs(os.path.dirname(path), exist_ok=True)

    def get(self, key: str) -> bytes:
        """The bytes of a blob; raises :class:`BlobNotFound` if absent."""
        try:
            return bytes(self.fs.cat_file(self.path(key)))
        except FileNotFoundError as error:
            raise BlobNotFound(key) from error

    def open(self, key: str) -> IO[bytes]:
        """A readable file object for streaming a large blob."""
        try:
            return self.fs.open(self.path(key), "rb")
        except FileNotFoundError as error:
            raise BlobNotFound(key) from error

    def exists(self, key: str) -> bool:
        """Whether a blob with this key is stored."""
        return bool(self.fs.exists(self.path(key)))

    def delete(self, key: str) -> bool:
        """Remove a blob; returns False when it was not there (deleting twice is fine)."""
        try:
            self.fs.rm_file(self.path(key))
        except FileNotFoundError:
            return False
        self.fs.invalidate_cache()
        return True

    def keys(self) -> Iterator[str]:
        """Every stored key (order not guaranteed)."""
        try:
            found = self.fs.find(self.root)
        except FileNotFoundError:
            return
        for name in found:
            base = name.rstrip("/").rsplit("/", 1)[-1]
            if len(base) == 64 and "/.incoming" not in name:
                yield base

    def url_for(self, key: str) -> str:
        """A URL naming the blob (``file://...``, ``az://...``, ``memory://...``)."""
        path = self.path(key)
        if self.protocol in ("file", "local"):
            return "file://" + path
        return f"{self.protocol}://{path.lstrip('/')}"

    def size(self, key: str) -> int:
        """Size of a blob in bytes."""
        try:
            return int(self.fs.size(self.path(key)))
        except FileNotFoundError as error:
            raise BlobNotFound(key) from error
