"""Test-suite wiring.

The determinism check. `make test` first builds the book, which executes every chapter
and keeps the executed notebooks in `_build/jupyter_execute/`. nbval then executes each
chapter a second time (converted by jupytext into `.nbtest/`). With
`--nbval-reference=_build/jupyter_execute`, every cell's text output from the second run
(stdout, stderr and the plain-text form of results) must equal the first run's, so a
chapter whose results depend on anything but the fixed seeds fails. Cells tagged
`nbval-ignore-output` (wall-clock timings) are exempt.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

IGNORE_TAG = "nbval-ignore-output"


def pytest_addoption(parser):
    parser.addoption(
        "--nbval-reference", default=None, metavar="DIR",
        help="folder of executed notebooks (the book build's _build/jupyter_execute) whose "
             "text outputs every nbval cell must reproduce",
    )


def merge_stream(chunks: list[str]) -> str:
    """One stream's chunks joined as myst-nb's ``nb_merge_streams`` joins them: each
    chunk right-stripped and ended by one newline, empty later chunks dropped."""
    text = chunks[0].rstrip() + "\n"
    return text + "".join(c.rstrip() + "\n" for c in chunks[1:] if c.rstrip())


def reference_stream(chunks: list[str]) -> str:
    """A stream of the book build's stored notebook. myst-nb merges a cell's stream
    chunks *in place* (into the first chunk) and the executed notebook keeps the later
    chunks as well, so a stream that arrived in several chunks is stored as the merged
    text followed by its parts again. Recognise that and keep the merged text."""
    if len(chunks) > 1:
        rest = "".join(c.rstrip() + "\n" for c in chunks[1:] if c.rstrip())
        if chunks[0].endswith(rest):
            return merge_stream(chunks[:1])
    return merge_stream(chunks)


def text_outputs(outputs, reference: bool = False) -> list[str]:
    """The text a reader sees: streams joined per stream name (as the book renders
    them), plain-text results. ``reference``: outputs of the book build's notebook.

    Glue records (myst-nb stores them apart from the cell) are left out.
    """
    streams: dict[str, list[str]] = {}
    plain = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            streams.setdefault(out.get("name", "stdout"), []).append(
                out.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            data = out.get("data", {})
            if any(key.startswith("application/papermill.record") for key in data) \
                    or "scrapbook" in out.get("metadata", {}):
                continue
            if "text/plain" in data:
                plain.append(data["text/plain"])
        elif kind == "error":
            plain.append(f"{out.get('ename')}: {out.get('evalue')}")
    join = reference_stream if reference else merge_stream
    return [f"[{name}]\n{join(chunks)}"
            for name, chunks in sorted(streams.items())] + plain


@lru_cache(maxsize=None)
def reference_cells(path: str) -> list:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return [cell for cell in nb.cells if cell.cell_type == "code"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    ref_dir = item.config.getoption("--nbval-reference")
    if ref_dir is None or call.when != "call" or not report.passed or not hasattr(item, "test_outputs"):
        return
    nb_path = Path(str(item.parent.fspath))
    ref_path = Path(ref_dir) / nb_path.parent.name / nb_path.name
    if not ref_path.is_file():
        report.outcome = "failed"
        report.longrepr = f"no executed reference notebook {ref_path}: build the book first (make build)"
        return
    cells = reference_cells(str(ref_path))
    ref = cells[item.cell_num] if item.cell_num < len(cells) else None
    if ref is None or ref.source.strip() != item.cell.source.strip():
        report.outcome = "failed"
        report.longrepr = (f"{ref_path} is out of date: cell {item.cell_num} differs from the "
                           f"chapter's source; rebuild the book (make build)")
        return
    if IGNORE_TAG in item.cell.metadata.get("tags", []):
        return
    first = text_outputs(ref.outputs, reference=True)
    second = text_outputs(item.test_outputs)
    if first != second:
        report.outcome = "failed"
        report.longrepr = (
            f"cell {item.cell_num} of {nb_path.name} printed different text in two executions "
            f"(seed every random generator from backprop.SEED; tag timing cells {IGNORE_TAG}):\n"
            f"--- book build ---\n{''.join(first)[:2000]}\n--- this run ---\n{''.join(second)[:2000]}"
        )
