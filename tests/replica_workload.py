"""One web replica with a busy team inside it: the process tests/test_multi_process.py runs three of.

Run as ``python tests/replica_workload.py INDEX SEED PICTURES BOARD TOKEN CONTROL`` with the shared
workspace in the environment (``WORKBENCH_STORAGE__METADATA_BACKEND=postgres``, Azurite blobs and
vectors). It starts the real web server (``server.main.prepare`` and ``run_until_stopped``, what
``workbench serve`` runs) and, on a thread, the workload:

1. every picture in ``PICTURES`` uploaded in its own shuffled order (the same files as the other
   replicas), interleaved with card moves and notes on the shared ``BOARD``, some made through the
   share link ``TOKEN``, and ten one-credit reservations;
2. when ``CONTROL/revoke`` appears, replica 0 revokes the link; when ``CONTROL/revoked`` appears,
   every replica tries the link once more (it must be refused);
3. when ``CONTROL/final.json`` names the board's final revision, it waits until its board listener
   has heard that revision and reports the board as it last reloaded it (what its pages show).

Every result is one JSON line on stdout.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.main import prepare, run_until_stopped  # noqa: E402
from workbench import ItemMove, Settings, WorkbenchError  # noqa: E402
from workbench.errors import InsufficientCredits  # noqa: E402

_out = threading.Lock()


def say(**line: object) -> None:
    with _out:
        sys.stdout.write(json.dumps(line, default=str) + "\n")
        sys.stdout.flush()


def wait_for(path: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {path.name} from the test")
        time.sleep(0.05)


class View:
    """The board as this replica's pages see it: reloaded whenever the bus brings a newer revision."""

    def __init__(self, wb, me, board_id: str) -> None:  # noqa: ANN001 - a Workbench and a User
        self.wb, self.me, self.board_id = wb, me, board_id
        self.heard = 0
        self.shown: tuple[int, list[list[object]]] = (0, [])
        self.events: list[int] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        wb.boards.subscribe(self._heard)
        threading.Thread(target=self._follow, daemon=True).start()

    def _heard(self, event) -> None:  # noqa: ANN001 - a BoardEvent
        if event.board_id == self.board_id:
            with self._lock:
                self.events.append(event.seq)
                self.heard = max(self.heard, event.seq)
            self._wake.set()

    def _follow(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                heard = self.heard  # what this reload is sure to include (events arrive after their commit)
            view = self.wb.boards.get(self.me, self.board_id)
            items = sorted([item.id, item.kind, round(item.x, 3), round(item.y, 3), item.text] for item in view.items)
            with self._lock:
                if heard >= self.shown[0]:
                    self.shown = (heard, items)

    def settle(self, revision: int, timeout: float = 120) -> tuple[int, list[list[object]]]:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if self.heard >= revision and self.shown[0] >= revision:
                    return self.shown
            if time.monotonic() > deadline:
                raise TimeoutError(f"heard revision {self.heard}, showing {self.shown[0]}, wanted {revision}")
            self._wake.set()
            time.sleep(0.05)


def workload(wb, index: int, seed: int, pictures: Path, board_id: str, token: str, control: Path) -> None:  # noqa: ANN001, PLR0913
    rng = random.Random(seed)
    me = wb.accounts.local_user()
    view = View(wb, me, board_id)
    files = sorted(pictures.iterdir())
    steps: list[tuple[str, object]] = [("upload", path) for path in files]
    steps += [("move", None)] * 15 + [("note", None)] * 4 + [("link", None)] * 3 + [("spend", None)] * 10
    rng.shuffle(steps)
    say(ready=index)
    for kind, arg in steps:
        try:
            if kind == "upload":
                assert isinstance(arg, Path)
                image, new = wb.library.ingest_new(me, arg.read_bytes(), filename=arg.name)
                say(upload=arg.name, image=image.id, new=new)
            elif kind == "spend":
                try:
                    reservation = wb.accounts.reserve(me, "idea")
                except InsufficientCredits:
                    say(spend="refused")
                else:
                    wb.accounts.commit(reservation)
                    say(spend="ok", reservation=reservation.id)
            else:
                items = [item.id for item in wb.boards.get(me, board_id).items if item.kind == "note"]
                if kind == "move" and items:
                    wb.boards.move_items(me, board_id, [ItemMove(rng.choice(items), rng.uniform(0, 2000),
                                                                 rng.uniform(0, 2000))])
                elif kind == "link":
                    wb.boards.add_note(None, board_id, f"from a link holder on replica {index}", token=token)
                else:
                    wb.boards.add_note(me, board_id, f"beat from replica {index}")
                say(edit=kind)
        except WorkbenchError as error:
            say(error=kind, detail=str(error))
    say(phase1=index)
    wait_for(control / "revoke")
    if index == 0:
        link = next(link for link in wb.boards.links(me, board_id) if link.revoked_at is None)
        wb.boards.revoke_link(me, board_id, link.id)
        say(revoked=link.id)
    wait_for(control / "revoked")
    try:
        wb.boards.add_note(None, board_id, "after the revocation", token=token)
        say(after_revoke="accepted")
    except WorkbenchError as error:
        say(after_revoke="refused", error_type=type(error).__name__)
    wait_for(control / "final.json")
    final = json.loads((control / "final.json").read_text())["revision"]
    revision, items = view.settle(final)
    say(view_revision=revision, items=items, heard=sorted(set(view.events)), heard_total=len(view.events))


def main() -> None:
    index, seed = int(sys.argv[1]), int(sys.argv[2])
    pictures, board_id, token, control = Path(sys.argv[3]), sys.argv[4], sys.argv[5], Path(sys.argv[6])
    settings = Settings()
    wb = prepare(settings)

    def run() -> None:
        try:
            workload(wb, index, seed, pictures, board_id, token, control)
        except BaseException as error:  # noqa: BLE001 - reported to the test, which fails on it
            say(crashed=repr(error))

    threading.Thread(target=run, daemon=True).start()
    run_until_stopped(wb, settings)


if __name__ == "__main__":
    main()
