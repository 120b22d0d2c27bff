"""The web workbench with a busy filmmaker inside it: the process the crash tests signal.

Run as ``python tests/crash_workload.py HOME PORT SEED CHECKPOINT_SECONDS``. It
starts the real server (``server.main.prepare`` and ``run_until_stopped``, the
code ``workbench serve`` runs, signal handling included) and, on a thread, a
long mixed workload through the service layer: notes added, cards moved and
removed, undo and redo, AI ideas that reserve and commit credits. Before each
action it prints ``{"start": n, ...}`` and after it ``{"done": n, ...}`` with
what it read back, one JSON line each, so the test knows exactly what was
acknowledged when it sent SIGTERM or SIGKILL.
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.main import prepare, run_until_stopped  # noqa: E402
from store import StoreClosed  # noqa: E402
from workbench import ItemMove, Settings, WorkbenchError  # noqa: E402

BOARDS = 4


def say(**line: object) -> None:
    # One write per line: print() writes the text and its newline separately, so two
    # threads saying something at once could run their lines together.
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def workload(wb, seed: int) -> None:  # noqa: ANN001 - a Workbench
    me = wb.accounts.local_user()
    rng = random.Random(seed)
    boards = [b.id for b in wb.boards.list(me)]
    while len(boards) < BOARDS:
        boards.append(wb.boards.create(me, f"Scene {len(boards) + 1}").id)
    if wb.accounts.balance(me) < 1000:
        wb.accounts.grant(me, 100_000, note="crash test")
    say(ready=True, boards=boards, balance=wb.accounts.balance(me))
    step = 0
    while True:
        step += 1
        board = rng.choice(boards)
        roll = rng.random()
        action = ("idea" if roll < 0.12 else "note" if roll < 0.4 else "move" if roll < 0.7 else
                  "remove" if roll < 0.8 else "undo" if roll < 0.92 else "redo")
        say(start=step, board=board, action=action)
        try:
            items = [item.id for item in wb.boards.get(me, board).items]
            if action == "idea":
                wb.writing.idea(me, f"a projectionist finds reel {step}", count=1, seed=step)
            elif action == "note" or not items:
                wb.boards.add_note(me, board, f"beat {step}")
            elif action == "move":
                wb.boards.move_items(me, board, [ItemMove(rng.choice(items), rng.uniform(0, 2000),
                                                          rng.uniform(0, 2000))])
            elif action == "remove":
                wb.boards.remove_items(me, board, [rng.choice(items)])
            elif action == "undo":
                wb.boards.undo(me, board)
            else:
                wb.boards.redo(me, board)
        except StoreClosed:
            say(closed=step)
            return
        except WorkbenchError:
            pass  # nothing to undo or redo: a normal answer
        say(done=step, board=board, items=len(wb.boards.get(me, board).items), balance=wb.accounts.balance(me))


def main() -> None:
    home, port, seed, checkpoint_seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    settings = Settings(home=Path(home), library={"load_samples": False},
                        server={"port": port}, storage={"checkpoint_seconds": checkpoint_seconds})
    wb = prepare(settings)
    say(recovered_wal=wb.db.recovered_wal, rebuilt=[c.describe() for c in wb.db.integrity if c.missing])
    threading.Thread(target=workload, args=(wb, seed), daemon=True).start()
    run_until_stopped(wb, settings)


if __name__ == "__main__":
    main()
