"""Reading the book's sources: which files the toc lists, their display equations and
the `# checks:` lines of their code cells. Used by tests/test_book.py and conftest.py."""

from __future__ import annotations

import re
import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from make_exercises import toc_names  # noqa: E402  (the one toc walker)

ROOT = Path(__file__).resolve().parent.parent

#: a display equation: $$ ... $$ optionally followed by a label (eq-name) on the same line
DISPLAY_EQ = re.compile(r"^\$\$(.*?)^\$\$[ \t]*(?:\((?P<label>[^)\s]+)\))?[ \t]*$", re.S | re.M)
CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.S | re.M)
CHECKS_LINE = re.compile(r"^\s*#\s*checks:\s*(?P<labels>.+)$", re.M)


def toc_files(root: Path = ROOT) -> list[Path]:
    """Every source file listed in _toc.yml (root first), as paths that exist."""
    names = toc_names(root)
    paths = []
    for name in names:
        candidates = [root / name, root / f"{name}.md", root / f"{name}.ipynb"]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            raise FileNotFoundError(f"_toc.yml lists {name!r}, which does not exist")
        paths.append(found)
    return paths


def notebook_files(root: Path = ROOT) -> list[Path]:
    """The toc's MyST notebooks (files with a jupytext header and code cells)."""
    return [p for p in toc_files(root) if "```{code-cell}" in p.read_text()]


def equations(text: str) -> list[tuple[str | None, str]]:
    """(label or None, body) for each $$ display equation in ``text``."""
    return [(m.group("label"), m.group(1)) for m in DISPLAY_EQ.finditer(text)]


def checked_labels(text: str) -> dict[str, list[str]]:
    """label -> bodies of the code cells whose `# checks:` lines name it."""
    found: dict[str, list[str]] = {}
    for cell in CODE_CELL.finditer(text):
        body = cell.group("body")
        for line in CHECKS_LINE.finditer(body):
            for label in re.split(r"[,\s]+", line.group("labels").strip()):
                if label:
                    found.setdefault(label, []).append(body)
    return found


def equation_report(texts: dict[str, str]) -> dict[str, list[str]]:
    """Problems with the book's equations, by kind; empty lists mean all is well.

    - ``unlabelled``: display equations without a label;
    - ``unchecked``: labels named by no `# checks:` line of any code cell in the book;
    - ``unknown``: labels named on a `# checks:` line that no equation defines;
    - ``no_assert``: labels whose check cells contain no assert;
    - ``duplicate``: labels defined twice.
    """
    labels, checks = [], {}
    report = {"unlabelled": [], "unchecked": [], "unknown": [], "no_assert": [], "duplicate": []}
    for name, text in texts.items():
        for label, body in equations(text):
            if label is None:
                report["unlabelled"].append(f"{name}: $${body.strip()[:60]}...$$")
            else:
                labels.append(label)
        for label, bodies in checked_labels(text).items():
            checks.setdefault(label, []).extend(bodies)
    report["duplicate"] = sorted({l for l in labels if labels.count(l) > 1})
    report["unchecked"] = sorted(l for l in set(labels) if l not in checks)
    report["unknown"] = sorted(l for l in checks if l not in set(labels))
    report["no_assert"] = sorted(l for l, bodies in checks.items()
                                 if l in set(labels) and not any("assert" in b for b in bodies))
    return report


#: the width a code line may have on the page (PEP 8): wider lines scroll sideways
CODE_WIDTH = 79
LITERALINCLUDE = re.compile(
    r"^```\{literalinclude\}\s+(?P<path>\S+)\n(?P<opts>(?::[^\n]*\n)*)", re.M)


def wide_code_lines(text: str, source_dir: Path) -> list[str]:
    """Lines wider than CODE_WIDTH in the code cells of a chapter and in the package
    objects it shows with ``literalinclude`` (``:pyobject:``), as ``"where: line"``."""
    import ast

    wide = []
    for cell in CODE_CELL.finditer(text):
        body = cell.group("body").splitlines()
        # skip the cell's option lines (":tags: [...]") at the top
        wide += [f"code cell: {l}" for l in body
                 if len(l) > CODE_WIDTH and not l.startswith(":tags:")]
    for inc in LITERALINCLUDE.finditer(text):
        path = (source_dir / inc.group("path")).resolve()
        opts = dict(re.findall(r"^:(\w+):\s*(.*)$", inc.group("opts"), re.M))
        src = path.read_text()
        lines = src.splitlines()
        if "pyobject" in opts:
            node, tree = None, ast.parse(src)
            for part in opts["pyobject"].split("."):
                body = tree.body if node is None else node.body
                node = next(n for n in body if getattr(n, "name", None) == part)
            first = node.lineno - 1
            if getattr(node, "decorator_list", None):
                first = node.decorator_list[0].lineno - 1
            lines = lines[first:node.end_lineno]
        elif "lines" in opts:
            a, _, b = opts["lines"].partition("-")
            lines = lines[int(a) - 1:int(b or a)]
        name = f"{inc.group('path')}::{opts.get('pyobject', '')}"
        wide += [f"{name}: {l}" for l in lines if len(l) > CODE_WIDTH]
    return wide
