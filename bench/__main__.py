"""Run every benchmark module (or those named) and print their results as one table."""

from __future__ import annotations

import argparse
import json
import pkgutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import format_table

HERE = Path(__file__).parent


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("only", nargs="*", help="names of bench modules to run (default: all)")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args()
    names = sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if not m.name.startswith("_"))
    if args.only:
        unknown = [o for o in args.only if not any(o in n for n in names)]
        if unknown:
            parser.error(f"no benchmark named {', '.join(unknown)}; there are {', '.join(names)}")
        names = [n for n in names if any(o in n for o in args.only)]
    rows: list[dict] = []
    for name in names:
        started = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        # Each in a fresh process: no model already loaded, no caches warmed by another benchmark.
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "rows.json"
            done = subprocess.run([sys.executable, "-m", f"bench.{name}", "--json", str(target)],
                                  cwd=HERE.parent, stdout=subprocess.DEVNULL, check=False)
            if done.returncode != 0:
                rows.append({"module": name, "benchmark": "(failed)", "value": done.returncode, "unit": "exit code",
                             "note": "see the output above"})
            else:
                rows += [{"module": name, **row} for row in json.loads(target.read_text())]
        print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    print(format_table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, default=str))
    return 1 if any(r["benchmark"] == "(failed)" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
