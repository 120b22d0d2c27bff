"""Screenplay PDF export: how long a feature takes, and the hostile shapes that used to hang.

- *120-page script*: a generated feature (scenes of action and dialogue with
  parentheticals, emphasis and dual dialogue), parsed and printed, best of a
  few runs; the acceptance target is under 1 s.
- *100,000 cue lines*, *1 MB speech on one line*, *10,000 scenes*: inputs
  that once kept a server busy for minutes; the target is under 5 s, or a
  clear refusal. Refused inputs (*a million lines*, *250,000 emphasis
  markers*) show how long the refusal takes.

Run: ``python -m bench.export [--repeat N]``.
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Callable

from bench import module_main

_WORDS = ("the rain falls on a neon street while she waits for the last train home and nobody comes "
          "back to the diner where the coffee went cold an hour ago").split()


def feature(scenes: int = 250, *, seed: int = 0) -> str:
    """A generated feature-length script; 250 scenes print about 120 pages."""
    rng = random.Random(seed)

    def sentence(low: int, high: int) -> str:
        return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(low, high))).capitalize() + "."

    out = ["Title: Night Shift\nAuthor: A Writer\nDraft date: 1 May\n\n"]
    for n in range(scenes):
        out.append(f"{rng.choice(['INT.', 'EXT.'])} PLACE {n} - {rng.choice(['DAY', 'NIGHT'])}\n\n")
        out.append(f"{sentence(12, 40)} {sentence(5, 20)} *Slowly*, she turns.\n\n")
        for _ in range(rng.randint(2, 4)):
            out.append(rng.choice(["MAE", "JONAS", "THE DRIVER", "MAE (V.O.)"]) + "\n")
            if rng.random() < 0.3:
                out.append("(quietly)\n")
            out.append(f"{sentence(4, 25)} {sentence(2, 12)}\n\n")
        if rng.random() < 0.1:
            out.append(f"MAE\n{sentence(3, 8)}\n\nJONAS ^\n{sentence(3, 8)}\n\n")
        if rng.random() < 0.2:
            out.append("CUT TO:\n\n")
    return "".join(out)


SHAPES: dict[str, Callable[[], str]] = {
    "100,000 cue lines": lambda: "\n".join(f"BOB{n}" for n in range(100_000)) + "\n",
    "1 MB speech on one line": lambda: "INT. ROOM - DAY\n\nBOB\n" + "Go now. " * 125_000 + "\n",
    "10,000 scenes": lambda: "".join(f"INT. ROOM {n} - DAY\n\nShe waits.\n\nBOB\nHello.\n\n" for n in range(10_000)),
    "a million lines (refused)": lambda: "INT. ROOM - DAY\n\n" + "a\n" * 1_000_000,
    "250,000 emphasis markers (refused)": lambda: "*a* _b_ " * 62_500 + "\n",
}


def _export(text: str) -> tuple[float, str]:
    """Seconds to parse and print ``text``, and what came out (pages, or the refusal)."""
    from pypdf import PdfReader

    from workbench.errors import InvalidInput
    from workbench.writing.fountain import parse
    from workbench.writing.screenplay_pdf import render_pdf_bytes

    started = time.perf_counter()
    try:
        pdf = render_pdf_bytes(parse(text))
    except InvalidInput as refused:
        return time.perf_counter() - started, f"refused: {str(refused)[:60]}..."
    seconds = time.perf_counter() - started
    return seconds, f"{len(PdfReader(io.BytesIO(pdf)).pages)} pages, {len(pdf) / 1e6:.1f} MB"


def run(repeat: int = 3) -> list[dict]:
    rows: list[dict] = []
    script = feature()
    runs = [_export(script) for _ in range(max(repeat, 1))]
    rows.append({"benchmark": "PDF of a 120-page script (parse + print, best run)", "value": min(t for t, _ in runs),
                 "unit": "s", "note": runs[0][1] + "; target < 1 s"})
    for label, make in SHAPES.items():
        seconds, outcome = _export(make())
        rows.append({"benchmark": f"PDF of {label}", "value": seconds, "unit": "s",
                     "note": outcome + "; target < 5 s"})
    return rows


if __name__ == "__main__":
    raise SystemExit(module_main(run, {"repeat": (int, 3, "runs of the 120-page script")}, __doc__))
