"""Where the time of ``make test`` (and so of ``.ci/run``) goes.

``make test`` runs its steps in order: the Python packages (pip, into a new
virtual environment), Debian's fonts, Chromium and TeX Live (apt-get, as
root), the two HTML editions, the message templates, the two PDFs, then
pytest. Each step appends a line ``<step> start|end <unix time>`` to
``_build/ci-times.log`` (the Makefile's ``$(MARK)``), and pytest writes a
JUnit file with every test's duration. This script turns both into one
table, printed at the end of ``make test`` and kept as
``_build/ci-times.md``::

    python tools/ci_times.py report [--log LOG] [--junit XML] [--out MD]

pytest runs on two workers, so a test group's time is the sum of its tests'
durations (seconds of worker time); its share of pytest's wall time is
estimated in proportion to that sum.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: the steps in the order make runs them, and how the table names them
STEPS = {
    "venv": "install: Python packages (pip, new virtual environment)",
    "fonts": "install: CJK fonts (apt-get)",
    "chromium": "install: Chromium (apt-get)",
    "build-en": "book: English HTML (executes every chapter)",
    "build-zh": "book: Chinese HTML (cached notebooks)",
    "pot": "book: message templates (gettext)",
    "texlive": "install: TeX Live (apt-get)",
    "pdf-en": "book: English PDF (LaTeX, xelatex)",
    "pdf-zh": "book: Chinese PDF (LaTeX, xelatex)",
    "pytest": "tests: pytest, 2 workers (split below)",
}

#: pytest's tests by what they exercise: (name, test of a JUnit entry)
GROUPS = [
    ("nbval: every chapter as a notebook",
     lambda cls, file: cls.startswith(".nbtest") or file.startswith(".nbtest")),
    ("browser: rendered pages in Chromium (test_rendered)",
     lambda cls, file: "test_rendered" in cls),
    ("exercise editions (test_exercises)",
     lambda cls, file: "test_exercises" in cls),
    ("PDF read back (test_pdf)", lambda cls, file: "test_pdf" in cls),
    ("book sources and translations (test_book, test_translation, ...)",
     lambda cls, file: any(f"test_{n}" in cls for n in (
         "book", "translation", "glossary", "workflow", "plotting"))),
    ("package: backprop (the rest)", lambda cls, file: True),
]


def read_log(path: Path) -> dict[str, float]:
    """Seconds per step from ``<step> start|end <time>`` lines (for a step
    run more than once, as by a second ``make test``, its latest run; a start
    without an end is ignored)."""
    started: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3 or parts[1] not in ("start", "end"):
            raise ValueError(f"{path}:{n}: expected '<step> start|end <time>'"
                             f"; got {line!r}")
        step, what, when = parts[0], parts[1], float(parts[2])
        if what == "start":
            started[step] = when
        elif step in started:
            seconds[step] = when - started.pop(step)   # the latest run
    return seconds


def read_junit(path: Path) -> dict[str, tuple[int, float]]:
    """(number of tests, seconds) per group of :data:`GROUPS`."""
    totals = {name: (0, 0.0) for name, _ in GROUPS}
    for case in ET.parse(path).getroot().iter("testcase"):
        cls, file = case.get("classname", ""), case.get("file", "")
        name = next(name for name, belongs in GROUPS if belongs(cls, file))
        count, secs = totals[name]
        totals[name] = (count + 1, secs + float(case.get("time", 0.0)))
    return totals


def fmt(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def report(log: Path, junit: Path | None) -> str:
    steps = read_log(log)
    unknown = sorted(set(steps) - set(STEPS))
    if unknown:
        raise ValueError(f"{log}: unknown steps {unknown}; known: "
                         f"{list(STEPS)}")
    total = sum(steps.values())
    rows = ["| step | wall time | share |", "| --- | ---: | ---: |"]
    for step, label in STEPS.items():
        if step in steps:
            rows.append(f"| {label} | {fmt(steps[step])} | "
                        f"{steps[step] / total:.0%} |")
    rows.append(f"| **all steps** | **{fmt(total)}** | 100% |")
    if junit is not None and junit.is_file():
        groups = read_junit(junit)
        worker = sum(secs for _, secs in groups.values())
        wall = steps.get("pytest", 0.0)
        rows += ["", "| test group | tests | worker time | est. wall |",
                 "| --- | ---: | ---: | ---: |"]
        for name, (count, secs) in groups.items():
            if count:
                share = secs / worker if worker else 0.0
                rows.append(f"| {name} | {count} | {fmt(secs)} | "
                            f"{fmt(share * wall)} |")
    return "\n".join(rows) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["report"])
    parser.add_argument("--log", type=Path,
                        default=ROOT / "_build" / "ci-times.log")
    parser.add_argument("--junit", type=Path,
                        default=ROOT / "_build" / "pytest.xml")
    parser.add_argument("--out", type=Path,
                        default=ROOT / "_build" / "ci-times.md")
    args = parser.parse_args(argv)
    if not args.log.is_file():
        print(f"no step times at {args.log}", file=sys.stderr)
        return 1
    table = report(args.log, args.junit)
    args.out.write_text(table, encoding="utf-8")
    print("Where the time went (also in " f"{args.out}):\n" + table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
