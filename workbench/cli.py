"""The ``workbench`` command: serve the web app, check backends, admin tasks.

    workbench serve                 # the web workbench on http://127.0.0.1:5006
    workbench worker                # embed uploads in this process until SIGTERM (no web app)
    workbench migrate               # bring the database schema up to date, then exit
    workbench backup DEST           # a consistent snapshot of metadata, vectors and pictures
    workbench restore SRC [--force] # restore a backup into an empty home
    workbench doctor                # which backends are active and reachable
    workbench reconcile             # finish or undo work a crash left half-done
    workbench reindex               # re-embed the library with the active model
    workbench samples               # add the public-domain sample photos
    workbench credits grant EMAIL N # give a user N credits
    workbench credits ledger EMAIL  # show a user's credit ledger
    workbench credits plan EMAIL premium
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from workbench.settings import Settings

__all__ = ["main"]


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    default_url = f"http://{settings.server.host}:{settings.server.port}"
    if args.port:
        settings.server.port = args.port
    if args.host:
        settings.server.host = args.host
    if settings.server.public_url == default_url:  # share links follow the new address
        settings.server.public_url = f"http://{settings.server.host}:{settings.server.port}"
    if args.no_samples:
        settings.library.load_samples = False
    from server.main import serve

    serve(settings)
    return 0


def _doctor(args: argparse.Namespace, settings: Settings) -> int:
    from workbench.doctor import format_checks, run_checks

    checks = run_checks(settings)
    print(format_checks(checks))
    return 0 if all(c.ok for c in checks) else 1


def _open(settings: Settings):  # noqa: ANN202 - the Workbench type is imported lazily
    from workbench.app import Workbench

    return Workbench(settings)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    import signal
    import threading

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):  # what Kubernetes sends; finish the batch, then close
        signal.signal(sig, lambda signum, frame: stop.set())
    with _open(settings) as wb:
        wb.reconcile()
        wb.start_worker()
        print(f"workbench worker: embedding with {settings.embedder.name}; data in {settings.home}", flush=True)
        stop.wait(args.seconds or None)
    print("workbench worker stopped", flush=True)
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from workbench.app import build_metadata_store

    # Explicit, for deployments that start replicas with WORKBENCH_STORAGE__MIGRATE_AT_START=false;
    # several at once are safe too: they take turns under the workspace's migration lock.
    db = build_metadata_store(settings, migrate=False, refuse_old_schema=False)
    try:
        before = db.version()
        applied = db.migrate()
        where = db.engine.describe()
        if applied:
            print(f"applied migration(s) {', '.join(map(str, applied))}: schema version {before} -> {db.version()} "
                  f"at {where}")
        else:
            print(f"schema version {db.version()} at {where}: nothing to apply")
    finally:
        db.close()
    return 0


def _backup(args: argparse.Namespace, settings: Settings) -> int:
    from workbench.backup import backup

    with _open(settings) as wb:
        manifest = backup(wb, args.dest, include_blobs=not args.no_blobs)
    print(f"backed up {sum(manifest.tables.values())} row(s) in {len(manifest.tables)} table(s), "
          f"{sum(manifest.vectors.values())} vector(s), {manifest.blobs} picture(s) "
          f"({manifest.blob_bytes / 1e6:.1f} MB) to {args.dest} in {manifest.seconds:.1f} s")
    return 0


def _restore(args: argparse.Namespace, settings: Settings) -> int:
    from workbench.backup import restore

    manifest = restore(args.src, settings, force=args.force)
    print(f"restored {sum(manifest.tables.values())} row(s), {sum(manifest.vectors.values())} vector(s), "
          f"{manifest.blobs} picture(s) into {settings.home}")
    return 0


def _reconcile(args: argparse.Namespace, settings: Settings) -> int:
    with _open(settings) as wb:
        report = wb.reconcile()
        ran = wb.pipeline.run_jobs()
    print(f"repaired {report.repaired} item(s): {report}; ran {ran} job(s)")
    return 0


def _reindex(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    with _open(settings) as wb:
        bar = tqdm(desc=f"Embedding with {wb.embedder.model_id}", unit="img")

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        count = wb.pipeline.reindex(progress=progress, drop_old=args.drop_old)
        bar.close()
    print(f"re-embedded {count} image(s)")
    return 0


def _samples(args: argparse.Namespace, settings: Settings) -> int:
    from workbench.samples import load_samples

    with _open(settings) as wb:
        result = load_samples(wb.accounts, wb.library, wait=True)
    print(f"added {len(result.added)}, already there {len(result.duplicates)}, errors {result.errors or 'none'}")
    return 0


def _credits(args: argparse.Namespace, settings: Settings) -> int:
    from workbench.errors import WorkbenchError

    with _open(settings) as wb:
        user = wb.accounts.find_by_email(args.email)
        if user is None:
            if args.action != "plan":
                print(f"No user with the email {args.email}.", file=sys.stderr)
                return 2
            user = wb.accounts.create_user(args.email)
        try:
            if args.action == "grant":
                print(f"{args.email}: balance {wb.accounts.grant(user, int(args.value), note=args.note)}")
            elif args.action == "plan":
                user = wb.accounts.set_plan(user, args.value)
                print(f"{args.email}: plan {user.plan}, balance {wb.accounts.balance(user)}")
            else:
                for entry in wb.accounts.ledger(user):
                    print(f"{entry.created_at:%Y-%m-%d %H:%M}  {entry.entry:<7} {entry.amount:>5}  "
                          f"{entry.action:<18} {entry.note}")
                print(f"balance: {wb.accounts.balance(user)}")
        except WorkbenchError as error:
            print(str(error), file=sys.stderr)
            return 2
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description="FilmMaker Workbench")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web workbench")
    serve.add_argument("--port", type=int, default=0, help="HTTP port (default 5006)")
    serve.add_argument("--host", default="", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--no-samples", action="store_true", help="do not load the sample photos")
    serve.set_defaults(run=_serve)
    worker = sub.add_parser("worker", help="embed uploads until stopped (needs a metadata store it can share)")
    worker.add_argument("--seconds", type=float, default=0, help="stop after this long (default: until SIGTERM)")
    worker.set_defaults(run=_worker)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(run=_migrate)
    backup = sub.add_parser("backup", help="write a consistent snapshot to a new folder")
    backup.add_argument("dest", help="a new or empty folder")
    backup.add_argument("--no-blobs", action="store_true",
                        help="leave the pictures out (when the blob container has its own backup)")
    backup.set_defaults(run=_backup)
    restore = sub.add_parser("restore", help="restore a backup into an empty home")
    restore.add_argument("src", help="a folder written by `workbench backup`")
    restore.add_argument("--force", action="store_true", help="replace the library already in this home")
    restore.set_defaults(run=_restore)
    sub.add_parser("doctor", help="show active backends and whether each is reachable").set_defaults(run=_doctor)
    sub.add_parser("reconcile", help="repair half-done work after a crash").set_defaults(run=_reconcile)
    reindex = sub.add_parser("reindex", help="embed the library with the active model (resumable)")
    reindex.add_argument("--drop-old", action="store_true", help="remove other models' vectors afterwards")
    reindex.set_defaults(run=_reindex)
    sub.add_parser("samples", help="add the public-domain sample photos").set_defaults(run=_samples)
    credits = sub.add_parser("credits", help="admin: credits and plans")
    credits.add_argument("action", choices=["grant", "ledger", "plan"])
    credits.add_argument("email")
    credits.add_argument("value", nargs="?", default="", help="credits to grant, or the plan name")
    credits.add_argument("--note", default="granted by admin")
    credits.set_defaults(run=_credits)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workbench`` console command."""
    from store import DatabaseInUse
    from workbench.errors import WorkbenchError
    from workbench.logs import configure_logging

    args = _parser().parse_args(argv)
    try:
        configure_logging()
        return int(args.run(args, Settings()))
    except DatabaseInUse as error:
        # DuckDB lets one process write a database file; the open fails before
        # anything is read or written, so no command half-applies.
        print(str(error), file=sys.stderr)
        return 3
    except WorkbenchError as error:  # a refusal the person can act on, not a traceback
        print(str(error), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
