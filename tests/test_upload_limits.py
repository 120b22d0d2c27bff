"""The file dropper's size limits hold on the server (a client can skip the browser's check)."""

from __future__ import annotations

from panel.models.file_dropper import UploadEvent

from server.components.upload import BoundedFileDropper

MB = 1024 * 1024


def _send(dropper: BoundedFileDropper, name: str, chunks: list[bytes]) -> None:
    for number, data in enumerate(chunks, start=1):
        event = UploadEvent(model=None, data={"name": name, "chunk": number, "total_chunks": len(chunks),
                                              "data": data, "type": "image/png"})
        dropper._process_event(event)  # what Panel calls for each chunk message from the browser


def test_a_file_within_the_limit_arrives_whole() -> None:
    dropper = BoundedFileDropper(max_file_bytes=2 * MB)
    model = dropper.get_root()  # the browser's model is Panel's own (no server-side property leaks into it)
    assert model.max_file_size == "2MB" and not hasattr(model, "refused")
    _send(dropper, "still.png", [b"a" * MB, b"b" * (MB // 2)])
    assert dropper.value == {"still.png": b"a" * MB + b"b" * (MB // 2)} and dropper.refused == {}
    assert dropper.mime_type == {"still.png": "image/png"}


def test_a_file_over_the_limit_is_dropped_as_it_arrives_and_said_so() -> None:
    dropper = BoundedFileDropper(max_file_bytes=2 * MB)
    _send(dropper, "huge.tif", [b"x" * MB] * 5)  # the browser's check was skipped: 5 MB sent
    assert "huge.tif" not in dropper.value
    assert dropper.refused == {"huge.tif": "huge.tif is larger than 2 MB, the upload limit."}
    assert dropper._file_buffer == {}  # nothing of it is held
    # The same name sent again within the limit is accepted and the refusal cleared.
    _send(dropper, "huge.tif", [b"y" * 100])
    assert dropper.value["huge.tif"] == b"y" * 100 and dropper.refused == {}


def test_bytes_held_at_once_are_bounded_across_interleaved_files() -> None:
    dropper = BoundedFileDropper(max_file_bytes=2 * MB, max_held_bytes=3 * MB)
    for name in ("a.png", "b.png"):  # two files open at once, each under the per-file limit
        dropper._process_event(UploadEvent(model=None, data={"name": name, "chunk": 1, "total_chunks": 2,
                                                             "data": b"z" * int(1.6 * MB), "type": "image/png"}))
    assert "b.png" in dropper.refused and "Too much arriving at once" in dropper.refused["b.png"]
    dropper._process_event(UploadEvent(model=None, data={"name": "a.png", "chunk": 2, "total_chunks": 2,
                                                         "data": b"z", "type": "image/png"}))
    assert len(dropper.value["a.png"]) == int(1.6 * MB) + 1 and "b.png" not in dropper.value


def test_chunks_of_a_file_that_never_started_are_ignored() -> None:
    dropper = BoundedFileDropper(max_file_bytes=MB)
    dropper._process_event(UploadEvent(model=None, data={"name": "late.png", "chunk": 3, "total_chunks": 3,
                                                         "data": b"q" * 10, "type": "image/png"}))
    assert dropper.value == {} and dropper._file_buffer == {}
