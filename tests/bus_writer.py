"""A second workbench process that makes board changes: what tests/test_event_bus.py listens to.

Run as ``python tests/bus_writer.py DSN HOME BLOBS VECTORS USER_ID BOARD_ID COUNT``. It
opens a workbench on the PostgreSQL metadata the parent uses (same blob and vector
folders: another replica), adds COUNT notes to the board as that user, prints
``{"seqs": [...]}`` (the revisions it reached, one per change) and closes.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workbench import Settings, Workbench  # noqa: E402


def main(dsn: str, home: str, blobs: str, vectors: str, user_id: str, board_id: str, count: int) -> None:
    settings = Settings(home=Path(home), storage={  # type: ignore[arg-type]
        "metadata_backend": "postgres", "metadata_dsn": dsn, "blob_url": blobs, "vector_url": vectors})
    settings.library.load_samples = False
    wb = Workbench(settings)
    try:
        user = wb.accounts.get_user(user_id)
        seqs = []
        for n in range(count):
            wb.boards.add_note(user, board_id, f"from the other process #{n}", x=40.0 * n, y=0)
            seqs.append(wb.boards.get(user, board_id).board.revision)
        print(json.dumps({"seqs": seqs}), flush=True)
    finally:
        wb.close()


if __name__ == "__main__":
    main(*sys.argv[1:7], int(sys.argv[7]))
