"""What every blob store backend must do, written once.

A backend's test class inherits this and overrides the ``blobs`` fixture.
"""

from __future__ import annotations

import io
import threading

import pytest

from store import BlobNotFound, BlobStore, sha256_hex


class BlobStoreContract:
    @pytest.fixture
    def blobs(self) -> BlobStore:  # pragma: no cover - overridden
        raise NotImplementedError

    def test_put_returns_sha256_and_get_returns_bytes(self, blobs: BlobStore) -> None:
        data = b"frame 001 \x00\xff" * 100
        key = blobs.put(data)
        assert key == sha256_hex(data)
        assert blobs.get(key) == data
        assert blobs.exists(key)
        assert blobs.size(key) == len(data)

    def test_put_same_bytes_twice_is_one_blob(self, blobs: BlobStore) -> None:
        first = blobs.put(b"same")
        second = blobs.put(b"same")
        assert first == second
        assert list(blobs.keys()).count(first) == 1

    def test_fanned_out_layout(self, blobs: BlobStore) -> None:
        key = blobs.put(b"layout")
        assert blobs.path(key).endswith(f"/{key[:2]}/{key[2:4]}/{key}")

    def test_missing_blob_raises_not_found(self, blobs: BlobStore) -> None:
        missing = sha256_hex(b"never stored")
        assert not blobs.exists(missing)
        with pytest.raises(BlobNotFound):
            blobs.get(missing)

    def test_delete_removes_and_is_idempotent(self, blobs: BlobStore) -> None:
        key = blobs.put(b"to delete")
        assert blobs.delete(key) is True
        assert not blobs.exists(key)
        assert blobs.delete(key) is False
        assert key not in set(blobs.keys())

    def test_keys_lists_every_blob(self, blobs: BlobStore) -> None:
        keys = {blobs.put(f"blob {i}".encode()) for i in range(5)}
        assert keys <= set(blobs.keys())

    def test_put_file_streams_large_content(self, blobs: BlobStore) -> None:
        data = bytes(range(256)) * 20_000  # 5 MB, several chunks
        key = blobs.put_file(io.BytesIO(data))
        assert key == sha256_hex(data)
        with blobs.open(key) as handle:
            assert handle.read() == data
        assert set(blobs.keys()) >= {key}

    def test_url_names_the_backend(self, blobs: BlobStore) -> None:
        key = blobs.put(b"url")
        assert blobs.url_for(key).startswith(blobs.protocol if blobs.protocol != "local" else "file")
        assert key in blobs.url_for(key)

    def test_invalid_key_is_rejected(self, blobs: BlobStore) -> None:
        with pytest.raises(ValueError):
            blobs.get("../../etc/passwd")

    def test_concurrent_reader_never_sees_partial_blob(self, blobs: BlobStore) -> None:
        data = b"x" * 3_000_000
        key = sha256_hex(data)
        seen: list[int] = []
        stop = threading.Event()

        def reader() -> None:
            while not stop.is_set():
                try:
                    seen.append(len(blobs.get(key)))
                except BlobNotFound:
                    pass

        thread = threading.Thread(target=reader)
        thread.start()
        try:
            blobs.put(data)
            blobs.get(key)
        finally:
            stop.set()
            thread.join()
        assert all(n == len(data) for n in seen)
