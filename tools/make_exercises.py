"""Write the exercise editions of the book, one notebook per chapter.

    python tools/make_exercises.py [--root .] [--out _build/exercises]
                                   [CHAPTER.md ...]

reads every chapter listed in ``_toc.yml`` (or the chapters named) with
jupytext and writes

- ``OUT/teacher/NN_slug.ipynb``: solutions in place, nbgrader metadata on
  the solution and check cells, so ``nbgrader generate_assignment``
  accepts it;
- ``OUT/student/NN_slug.ipynb``: each region between ``### BEGIN
  SOLUTION`` and ``### END SOLUTION`` replaced by ``raise
  NotImplementedError("Exercise N: write your answer here")``, solution
  prose and other solution cells removed, and the ``assert`` taken off the
  checker calls, so a stub prints "not implemented yet" and the notebook
  runs to the end. Code cells tagged ``exercise-teacher`` (checks of the
  solutions' prose) and code cells inside a ``{solution-start}`` ...
  ``{solution-end}`` pair, other than the solution cells, are left out.

An edition holds the chapter's setup cell (its first code cell, tagged
``remove-cell``), the code cells tagged ``exercise-setup`` (what the
exercises need from the chapter's body), and the chapter's ``## Exercises``
section up to the next heading of level 1 or 2. A chapter takes part once
its exercises use the ``{exercise}`` directive; the others are skipped and
listed. The source convention is in CONTRIBUTING.md ("Exercises").
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent

TAG_SETUP = "exercise-setup"
TAG_SOLUTION = "exercise-solution"
TAG_CHECK = "exercise-check"
TAG_TEACHER = "exercise-teacher"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = 'raise NotImplementedError("Exercise {n}: write your answer here")'
#: the student edition's cell for an answer in words or formulas, where the
#: teacher edition has the solution (the code, if any, follows in its stub)
ANSWER = ("**Your answer to Exercise {n}.** *Write your reasoning and result "
          "here (double-click to edit); a coding part goes in the code cell "
          "below, if there is one.*")

#: the opening line of a directive fence: ``` or ::: (3 or more)
FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*"
                   r"(?P<arg>.*?)[ \t]*$")
HEADING = re.compile(r"^(?P<level>#{1,6})[ \t]+(?P<text>.+?)[ \t]*#*[ \t]*$")
OPTION = re.compile(r"^:(?P<key>[\w-]+):[ \t]*(?P<value>.*)$")
ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<text>[^`]*)`")
TARGET = re.compile(r"^\([\w:.-]+\)=[ \t]*$", re.M)
EQ_LABEL = re.compile(r"^(\$\$)[ \t]*\([\w:.-]+\)[ \t]*$", re.M)
EXERCISE_DIRECTIVES = {"exercise", "exercise-start", "exercise-end",
                       "solution", "solution-start", "solution-end"}


class ConventionError(ValueError):
    """A chapter's exercise section breaks the source convention."""


@dataclass
class Editions:
    """The two notebooks of one chapter, and what went into them."""
    name: str
    teacher: nbformat.NotebookNode
    student: nbformat.NotebookNode
    exercises: int = 0
    solution_cells: int = 0
    check_cells: int = 0
    solution_lines: list = field(default_factory=list)


# ------------------------------------------------------------ the toc
def toc_names(root: Path = ROOT) -> list[str]:
    """Every ``file`` entry of ``_toc.yml``, root first, in book order (also
    read by the book checks in tests/bookcheck.py)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    names = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return names


def toc_chapters(root: Path = ROOT) -> list[Path]:
    """The MyST notebooks ``_toc.yml`` lists, in order."""
    paths = []
    for name in toc_names(root)[1:]:
        path = root / (name if name.endswith(".md") else f"{name}.md")
        if path.is_file() and "```{code-cell}" in path.read_text():
            paths.append(path)
    return paths


# ------------------------------------------------------------ markdown
def _blocks(text: str):
    """Split Markdown into ('text', str) and ('directive', dict) blocks.

    Only the exercise directives are taken apart; any other fence stays
    in the text it belongs to.
    """
    lines = text.split("\n")
    out, buf, i = [], [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or m.group("name") not in EXERCISE_DIRECTIVES:
            buf.append(lines[i])
            i += 1
            continue
        fence = m.group("fence")
        close = re.compile("^" + re.escape(fence[0]) + "{" +
                           str(len(fence)) + r",}[ \t]*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        if j == len(lines):
            raise ConventionError(f"{{{m.group('name')}}} opened with "
                                  f"{fence} is never closed")
        body, options = lines[i + 1:j], {}
        while body and OPTION.match(body[0]):
            opt = OPTION.match(body.pop(0))
            options[opt.group("key")] = opt.group("value")
        if buf:
            out.append(("text", "\n".join(buf)))
            buf = []
        out.append(("directive", {"name": m.group("name"),
                                  "arg": m.group("arg"),
                                  "options": options,
                                  "body": "\n".join(body).strip("\n")}))
        i = j + 1
    if buf:
        out.append(("text", "\n".join(buf)))
    return out


@dataclass
class Equation:
    """A labelled display equation of the book."""
    latex: str
    number: int       # its number in the book (math_numfig, book-wide)
    chapter: str      # the page's stem, e.g. 04_delta_rule
    title: str        # the page's title


@dataclass
class BookIndex:
    """What a reference in an edition can point to, over the whole book."""
    equations: dict = field(default_factory=dict)   # label -> Equation
    exercises: dict = field(default_factory=dict)   # label -> number
    titles: dict = field(default_factory=dict)      # label -> heading


def _equations(text: str):
    """(label, LaTeX) of each labelled ``$$ ... $$ (label)`` display, in
    page order: the order Sphinx numbers them in (unlabelled displays get
    no number). Displays in code fences do not count."""
    out, body, fence = [], None, None
    for line in text.split("\n"):
        s = line.strip()
        f = re.match(r"^(`{3,}|~{3,})", s)
        if body is None and f and fence is None and "{" in s \
                and "{code-cell}" in s:
            fence = f.group(1)
            continue
        if fence is not None:
            if s == fence:
                fence = None
            continue
        if body is None:
            if s.startswith("$$"):
                rest = s[2:]
                if "$$" in rest:  # one line: $$ x $$ (label)
                    inner, _, tail = rest.partition("$$")
                    lab = re.fullmatch(r"\s*\(([\w:.-]+)\)\s*", tail)
                    if lab:
                        out.append((lab.group(1), inner.strip()))
                else:
                    body = [rest] if rest.strip() else []
            continue
        if s.startswith("$$") or s.endswith("$$"):
            head, _, tail = s.partition("$$")
            if head:
                body.append(head)
            lab = re.fullmatch(r"\s*\(([\w:.-]+)\)\s*", tail)
            if lab:
                out.append((lab.group(1), "\n".join(body).strip()))
            body = None
        else:
            body.append(line.rstrip())
    return out


def _targets(text: str) -> dict:
    """label -> heading text of each ``(label)=`` right above a heading."""
    out = {}
    for m in re.finditer(r"^\(([\w:.-]+)\)=[ \t]*\n(#{1,6})[ \t]+(.+?)"
                         r"[ \t]*$", text, re.M):
        out[m.group(1)] = m.group(3)
    return out


def book_index(root: Path = ROOT, extra=()) -> BookIndex:
    """The labels of every page in the toc of ``root`` (and of the
    chapters ``extra``): equations with their numbers, exercises with
    theirs, chapter and section titles.

    The book's toctree is not numbered, so Sphinx numbers labelled
    equations (math_numfig) through the whole book in toc order, root
    first, as sphinx-exercise numbers exercises; a chapter outside the
    toc numbers its own from 1.
    """
    root = Path(root)
    index = BookIndex()
    try:
        names = toc_names(root)
        toc = toc_chapters(root)
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        names, toc = [], []
    pages = []
    for name in names:
        path = root / (name if name.endswith(".md") else f"{name}.md")
        if path.is_file():
            pages.append(path)
    first = first_numbers(toc)
    known = {p.resolve() for p in pages}
    outside = [Path(p) for p in extra if Path(p).resolve() not in known]
    counted = 0
    for path in pages + outside:
        text = Path(path).read_text()
        titles = _targets(text)
        h1 = re.search(r"^#[ \t]+(.+?)[ \t]*$", text, re.M)
        title = h1.group(1) if h1 else Path(path).stem
        index.titles.update(titles)
        if path in outside:
            counted = 0
        for label, latex in _equations(text):
            counted += 1
            index.equations[label] = Equation(latex, counted,
                                              Path(path).stem, title)
        n = first.get(Path(path).resolve(), 1)
        for ex_label in _exercise_labels(text):
            if ex_label:
                index.exercises[ex_label] = n
            n += 1
    return index


def _exercise_labels(text: str) -> list:
    """The label (or None) of each ``{exercise}`` of a chapter, in order."""
    labels, lines = [], text.split("\n")
    for k, line in enumerate(lines):
        m = FENCE.match(line)
        if m and m.group("name") in ("exercise", "exercise-start"):
            label = None
            for opt in lines[k + 1:]:
                o = OPTION.match(opt)
                if not o:
                    break
                if o.group("key") == "label":
                    label = o.group("value").strip()
            labels.append(label)
    return labels


def _plain(text: str, index: BookIndex | None = None,
           chapter: str | None = None) -> str:
    """MyST-only syntax made readable in a plain Jupyter notebook.

    With the book's ``index``, ``{eq}`label``` prints as the book does,
    "Eq. N" (plus the chapter's title when the equation is on another
    page), and the equation itself follows the paragraph as a display;
    a reference to an exercise prints "Exercise N", one to a chapter or
    section its title.
    """
    index = index or BookIndex()
    shown = []

    def role(m):
        name, body = m.group("role"), m.group("text")
        target = re.fullmatch(r"(.*?)\s*<(.+)>", body)
        label = target.group(2) if target else body
        if name == "eq":
            eq = index.equations.get(label)
            if eq is None:
                return f"({body})"
            if label not in shown:
                shown.append(label)
            where = "" if eq.chapter == chapter \
                else f" of the chapter *{_plain(eq.title)}*"
            return f"Eq. {eq.number}{where}"
        if name in ("ref", "numref", "doc"):
            if label in index.exercises:
                number = index.exercises[label]
                if target and name == "ref":
                    return target.group(1)
                if target:
                    return target.group(1).replace(
                        "%s", str(number)).replace("{number}", str(number))
                return f"Exercise {number}"
            if target:
                return target.group(1).replace("%s", "").strip()
            if label in index.titles:
                return f"*{_plain(index.titles[label])}*"
        if name == "cite":
            return f"[{body}]"
        return f"`{body}`"

    text = TARGET.sub("", text)
    text = EQ_LABEL.sub(r"\1", text)
    out = []
    for para in re.split(r"\n[ \t]*\n", text):
        shown.clear()
        para = ROLE.sub(role, para)
        out.append(para)
        for label in shown:
            eq = index.equations[label]
            out.append(f"$$\n{eq.latex}\n\\tag{{{eq.number}}}\n$$")
    return "\n\n".join(out)


def _section(cells):
    """The cells of the chapter's ``## Exercises`` section.

    The Markdown cells where it starts and ends are cut at the
    headings.
    """
    start = None
    section = []
    for k, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            if start is not None:
                section.append(cell)
            continue
        lines = cell.source.split("\n")
        kept, fence = [], None
        for n, line in enumerate(lines):
            f = re.match(r"^(`{3,}|:{3,})", line)
            if f and fence is None:  # headings inside fences do not count
                fence = f.group(1)
            elif f and f.group(1)[0] == fence[0] \
                    and len(f.group(1)) >= len(fence) \
                    and line.strip() == f.group(1):
                fence = None
            h = HEADING.match(line) if fence is None else None
            if h and start is None and len(h.group("level")) == 2 \
                    and h.group("text").strip() == "Exercises":
                start = k
                kept = [line]
                continue
            if h and start is not None and len(h.group("level")) <= 2:
                if kept and "\n".join(kept).strip():
                    section.append(nbformat.v4.new_markdown_cell(
                        "\n".join(kept)))
                return section
            if start is not None:
                kept.append(line)
        if start is not None and kept:
            section.append(nbformat.v4.new_markdown_cell("\n".join(kept)))
    return section


def _title(cells) -> str:
    for cell in cells:
        if cell.cell_type == "markdown":
            for line in cell.source.split("\n"):
                h = HEADING.match(line)
                if h and len(h.group("level")) == 1:
                    return _plain(h.group("text"))
    return "Exercises"


# ------------------------------------------------------------ code
def _regions(source: str):
    """(begin, end) line indices of each solution region of a cell."""
    lines, regions, begin = source.split("\n"), [], None
    for n, line in enumerate(lines):
        if line.strip() == BEGIN:
            if begin is not None:
                raise ConventionError(f"{BEGIN} twice without {END}")
            begin = n
        elif line.strip() == END:
            if begin is None:
                raise ConventionError(f"{END} without {BEGIN}")
            regions.append((begin, n))
            begin = None
        elif BEGIN in line or END in line:
            raise ConventionError(f"a solution marker must stand alone on "
                                  f"its line: {line.strip()!r}")
    if begin is not None:
        raise ConventionError(f"{BEGIN} without {END}")
    return regions


def stub(source: str, number: int) -> tuple[str, list[str]]:
    """The student's version of a solution cell, and the removed lines."""
    lines = source.split("\n")
    regions = _regions(source)
    if not regions:
        raise ConventionError(f"Exercise {number}: a cell tagged "
                              f"{TAG_SOLUTION} has no {BEGIN} ... {END}")
    out, removed, last = [], [], 0
    for begin, end in regions:
        indent = lines[begin][:len(lines[begin]) - len(lines[begin].lstrip())]
        if not indent:
            raise ConventionError(
                f"Exercise {number}: {BEGIN} at the top level of a cell; "
                "put the solution inside a function, so the student's stub "
                "raises only when the check calls it")
        out += lines[last:begin] + [indent + STUB.format(n=number)]
        removed += [s.strip() for s in lines[begin + 1:end] if s.strip()]
        last = end + 1
    out += lines[last:]
    return "\n".join(out), removed


def unassert(source: str, number: int) -> str:
    """A check cell with ``assert CHECKER(...)`` turned into the call.

    ``assert result`` (a name bound to a checker's result) becomes
    ``result``. Any other assert is refused: in the student edition it
    would fail on a stub.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise ConventionError(f"Exercise {number}: a check cell must be "
                              f"plain Python ({err.msg}, line {err.lineno})")
    lines = source.split("\n")
    for node in reversed(tree.body):
        if not isinstance(node, ast.Assert):
            continue
        if not isinstance(node.test, (ast.Call, ast.Name)) \
                or node.msg is not None:
            raise ConventionError(
                f"Exercise {number}: a check cell may assert only a "
                "checker call, with no message (assert check_...(...)); "
                "the student edition drops the assert")
        first, last = node.lineno - 1, node.end_lineno - 1
        shift = node.test.col_offset - node.col_offset
        head = lines[first][:node.col_offset]
        lines[first] = head + lines[first][node.test.col_offset:]
        for n in range(first + 1, last + 1):  # keep continuations aligned
            if lines[n][:shift].strip() == "":
                lines[n] = lines[n][shift:]
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.Assert):
            raise ConventionError(f"Exercise {number}: a check cell may "
                                  "assert only at its top level")
    return "\n".join(lines)


def _nbgrader(cell, kind: str, grade_id: str) -> None:
    """nbgrader's metadata: ``solution`` (autograded answer), ``check``
    (autograder tests, 1 point) or ``answer`` (prose graded by hand)."""
    meta = {"grade": kind in ("check", "answer"), "grade_id": grade_id,
            "locked": kind == "check", "schema_version": 3,
            "solution": kind in ("solution", "answer"), "task": False}
    if meta["grade"]:
        meta["points"] = 1
    cell.metadata["nbgrader"] = meta


# ------------------------------------------------------------ editions
def _code(source: str, tags) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def count_exercises(path: Path) -> int:
    """How many ``{exercise}`` directives the chapter at ``path`` has."""
    return sum(1 for line in Path(path).read_text().split("\n")
               if (m := FENCE.match(line))
               and m.group("name") in ("exercise", "exercise-start"))


def first_numbers(paths) -> dict[Path, int]:
    """The book's number of each chapter's first exercise.

    sphinx-exercise numbers exercises through the whole book in toc order
    (Exercise 1, 2, ... across chapters), so the editions do the same.
    """
    first, n = {}, 1
    for path in paths:
        first[Path(path).resolve()] = n
        n += count_exercises(path)
    return first


def _root_of(path: Path) -> Path:
    """The nearest folder above ``path`` with a ``_toc.yml``."""
    for parent in Path(path).resolve().parents:
        if (parent / "_toc.yml").is_file():
            return parent
    return Path(path).resolve().parent


def build_editions(path: Path, name: str | None = None,
                   first: int | None = None,
                   index: BookIndex | None = None) -> Editions | None:
    """The teacher and student notebooks of the chapter at ``path``.

    Its exercises are numbered from ``first`` (see :func:`first_numbers`;
    default: the chapter's place in its book's toc, or 1);
    references resolve with ``index`` (default: :func:`book_index` of the
    book the chapter belongs to).
    None when the chapter has no ``{exercise}`` directive yet. Raises
    ConventionError (with the chapter's name) when the section breaks the
    convention.
    """
    path = Path(path)
    name = name or path.name
    if first is None:
        try:
            toc = toc_chapters(_root_of(path))
        except (OSError, KeyError, TypeError, yaml.YAMLError):
            toc = []
        first = first_numbers(toc).get(path.resolve(), 1)
    if index is None:
        index = book_index(_root_of(path), extra=[path])
    local = {label: first + k for k, label in
             enumerate(_exercise_labels(path.read_text())) if label}
    index = BookIndex(index.equations, {**index.exercises, **local},
                      index.titles)
    try:
        return _build(path, name, first, index)
    except ConventionError as err:
        raise ConventionError(f"{name}: {err}") from None


def _build(path: Path, name: str, first: int,
           index: BookIndex) -> Editions | None:
    nb = jupytext.read(path)
    cells = nb.cells
    section = _section(cells)
    if not any(kind == "directive" and d["name"] in
               ("exercise", "exercise-start")
               for c in section if c.cell_type == "markdown"
               for kind, d in _blocks(c.source)):
        return None  # not converted yet
    for cell in cells:
        if cell.cell_type == "code" and _regions(cell.source) \
                and TAG_SOLUTION not in cell.metadata.get("tags", []):
            raise ConventionError(f"a code cell with {BEGIN} is not tagged "
                                  f"{TAG_SOLUTION}: {cell.source[:60]!r}")
    setup = next((c for c in cells if c.cell_type == "code"), None)
    if setup is None or "remove-cell" not in setup.metadata.get("tags", []):
        raise ConventionError("the first code cell must be the setup cell, "
                              "tagged remove-cell")
    inside = {id(c) for c in section}
    needed = [c for c in cells if c.cell_type == "code" and c is not setup
              and id(c) not in inside
              and TAG_SETUP in c.metadata.get("tags", [])]

    title = _title(cells)
    try:
        src = path.resolve().relative_to(ROOT).as_posix()
    except ValueError:  # a chapter outside this repository
        src = path.name
    last = first + count_exercises(path) - 1
    page = src[:-3] if src.endswith(".md") else src
    numbering = (
        f"\n\nThe exercise numbers ({first}"
        + (f" to {last}" if last > first else "")
        + ") are the book's: exercises, like equations, are numbered "
        f"through the whole book, so Exercise {first} here is Exercise "
        f"{first} on the chapter's page, `{page}` "
        f"([{_plain(title)}](../../html/{page}.html) in the built book).")
    heads = {
        "teacher": f"# Exercises: {title}\n\n*Teacher edition*, solutions in "
                   f"place. Written by `tools/make_exercises.py` from "
                   f"`{src}`; edit the chapter, not this notebook. Run all "
                   "cells: every check should print *correct*." + numbering,
        "student": f"# Exercises: {title}\n\nRun the cells from the top. "
                   "Write answers in words or formulas in the cells marked "
                   "*Your answer*. In a code cell, replace the line "
                   "`raise NotImplementedError(...)` with your code, run "
                   "the cell, then run the check below it: it says what is "
                   "wrong, or that your answer is correct." + numbering,
    }
    ed = {k: [nbformat.v4.new_markdown_cell(h)] for k, h in heads.items()}
    for cell in [setup] + needed:
        for k in ed:
            ed[k].append(_code(cell.source, ["setup"]))

    numbers: dict[str, int] = {}
    count, current, gated = first - 1, 0, None
    md = {"teacher": [], "student": []}
    ids: dict[str, int] = {}
    result = Editions(name, None, None)

    def flush():
        """Markdown so far as cells; solution prose in cells of its own,
        which nbgrader grades by hand and clears in the release."""
        for k in ed:
            runs = []  # (exercise number for solution prose or 0, texts)
            for text, prose in md[k]:
                if not text.strip():
                    continue
                if runs and runs[-1][0] == prose:
                    runs[-1][1].append(text.strip("\n"))
                else:
                    runs.append((prose, [text.strip("\n")]))
            for prose, texts in runs:
                cell = nbformat.v4.new_markdown_cell(
                    _plain("\n\n".join(texts), index, path.stem))
                if prose and prose != "answer":   # a cell of its own
                    _nbgrader(cell, "answer", grade_id("answer", prose))
                ed[k].append(cell)
            md[k] = []

    def grade_id(kind, number=None):
        key = f"ex{number or current}-{kind}"
        ids[key] = ids.get(key, 0) + 1
        return key if ids[key] == 1 else f"{key}{ids[key]}"

    def target(d):
        label = d["arg"].strip()
        if label not in numbers:
            raise ConventionError(f"{{{d['name']}}} {label}: no exercise "
                                  "above has that label")
        return numbers[label]

    for cell in section:
        if cell.cell_type == "markdown":
            for kind, block in _blocks(cell.source):
                if kind == "text":
                    md["teacher"].append((block, gated or 0))
                    if gated is None:
                        md["student"].append((block, 0))
                    continue
                d = block
                if d["name"] in ("exercise", "exercise-start"):
                    if gated is not None:
                        raise ConventionError("an exercise inside a solution")
                    if "nonumber" in d["options"]:
                        raise ConventionError("every exercise is numbered: "
                                              "drop :nonumber:")
                    count += 1
                    current = count
                    if "label" in d["options"]:
                        numbers[d["options"]["label"].strip()] = count
                    head = f"### Exercise {count}"
                    if d["arg"]:
                        head += f": {d['arg']}"
                    for k in md:
                        md[k] += [(head, 0), (d["body"], 0)]
                elif d["name"] == "exercise-end":
                    pass
                elif d["name"] == "solution":
                    current = target(d)
                    md["teacher"] += [
                        (f"**Solution to Exercise {current}.**", 0),
                        (d["body"], current)]
                    md["student"].append((ANSWER.format(n=current), "answer"))
                elif d["name"] == "solution-start":
                    if gated is not None:
                        raise ConventionError("{solution-start} twice")
                    current = gated = target(d)
                    md["teacher"] += [
                        (f"**Solution to Exercise {current}.**", 0),
                        (d["body"], current)]
                    md["student"].append((ANSWER.format(n=current), "answer"))
                elif d["name"] == "solution-end":
                    if gated is None:
                        raise ConventionError("{solution-end} without "
                                              "{solution-start}")
                    gated = None
            continue
        flush()
        tags = [t for t in cell.metadata.get("tags", [])]
        if TAG_SOLUTION in tags:
            if current == 0:
                raise ConventionError(f"a {TAG_SOLUTION} cell before the "
                                      "first exercise")
            student, removed = stub(cell.source, current)
            teacher = _code(cell.source, tags)
            _nbgrader(teacher, "solution", grade_id("solution"))
            ed["teacher"].append(teacher)
            ed["student"].append(_code(student, tags))
            result.solution_cells += 1
            result.solution_lines += removed
        elif TAG_CHECK in tags:
            teacher = _code(cell.source, tags)
            _nbgrader(teacher, "check", grade_id("check"))
            ed["teacher"].append(teacher)
            ed["student"].append(_code(unassert(cell.source, current), tags))
            result.check_cells += 1
        else:  # given code; solution code only inside a solution
            ed["teacher"].append(_code(cell.source, tags))
            if gated is None and TAG_TEACHER not in tags:
                ed["student"].append(_code(cell.source, tags))
    flush()
    if gated is not None:
        raise ConventionError("{solution-start} without {solution-end}")
    for k, kept in ed.items():
        text = "\n".join(c.source for c in kept)
        if re.search(r"\{admonition\}[^\n]*[Ss]olution", text):
            raise ConventionError("solutions in an {admonition}: use "
                                  "{solution} so the student edition can "
                                  "drop them")
    result.exercises = count - first + 1
    if result.exercises != count_exercises(path):
        raise ConventionError("an {exercise} outside the ## Exercises "
                              "section")
    used = "\n".join(c.source for c in ed["teacher"][2:]
                     if c.cell_type == "code")
    for k in ed:
        ed[k][1] = _code(prune_setup(setup.source, used), ["setup"])
    result.teacher, result.student = (_notebook(ed["teacher"], nb),
                                      _notebook(ed["student"], nb))
    return result


GLUE_STUB = ('def glue(name, value, display=True):\n'
             '    """A stand-in for the book\'s glue: nothing to do here."""')


def prune_setup(source: str, used: str) -> str:
    """The setup cell ``source`` with only the imports that the rest of
    the setup cell or the code ``used`` (the edition's other cells) needs.

    ``from myst_nb import glue`` becomes a no-op ``glue`` when a cell
    calls it, so an edition needs neither myst_nb nor what only the
    chapter's body imports (sklearn, scipy, ...).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    lines = source.split("\n")
    spans, rest = [], []
    for node in tree.body:
        span = (node.lineno - 1, node.end_lineno)
        (spans if isinstance(node, (ast.Import, ast.ImportFrom))
         else rest).append((span, node))
    code = "\n".join("\n".join(lines[a:b]) for (a, b), _ in rest)
    code += "\n" + used
    names = set(re.findall(r"[A-Za-z_]\w*", code))
    out, k, stub_glue, last = [], 0, False, 0
    for (a, b), node in spans:
        out += lines[k:a]
        k = b
        keep = []
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            if bound in names:
                keep.append(alias)
        if isinstance(node, ast.ImportFrom) and node.module == "myst_nb":
            stub_glue |= any(a.name == "glue" for a in keep)
            keep = []
        if not keep:  # and the blank line after it, if it opened a group
            if k < len(lines) and not lines[k].strip() and (
                    not out or not out[-1].strip()
                    or out[-1].lstrip().startswith("#")):
                k += 1
            continue
        last = len(out) + 1
        if len(keep) == len(node.names):
            out += lines[a:b]
            continue
        out.append(_import_line(node, keep))
    if stub_glue:  # after the last import
        while last < len(out) and out[last].startswith((" ", ")")):
            last += 1
        out[last:last] = ["", "", GLUE_STUB, "", ""]
    out += lines[k:]
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def _import_line(node, aliases) -> str:
    """An import statement of ``aliases`` only, within 79 columns."""
    parts = [a.name + (f" as {a.asname}" if a.asname else "")
             for a in aliases]
    if isinstance(node, ast.Import):
        return "\n".join(f"import {p}" for p in parts)
    head = f"from {'.' * node.level}{node.module or ''} import "
    line = head + ", ".join(parts)
    if len(line) <= 79:
        return line
    body = textwrap.fill(", ".join(parts), 79 - 4,
                         break_on_hyphens=False, break_long_words=False)
    return head + "(\n" + textwrap.indent(body, "    ") + ")"


def _notebook(cells, source_nb) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(source_nb.metadata.get(
        "kernelspec", {"display_name": "Python 3", "language": "python",
                       "name": "python3"}))
    nb.metadata["language_info"] = {"name": "python"}
    for k, cell in enumerate(cells):
        cell["id"] = f"cell-{k:03d}"  # stable ids: the same file every run
    nb.cells = cells
    return nb


def leaked(editions: Editions, shortest: int = 12) -> list[str]:
    """Solution lines that still appear in the student edition.

    Lines shorter than ``shortest`` characters (``return x``, ``pass``)
    are left out: they give nothing away and may well be given code too.
    """
    text = "\n".join(c.source for c in editions.student.cells)
    lines = {s.strip() for s in text.split("\n")}
    return [s for s in editions.solution_lines
            if len(s) >= shortest and s in lines]


def write_editions(root: Path = ROOT, out: Path | None = None,
                   chapters=None, log=print) -> list[Editions]:
    """Write both editions of each converted chapter; return them."""
    root = Path(root)
    out = Path(out) if out is not None else root / "_build" / "exercises"
    toc = toc_chapters(root)
    paths = [Path(p) for p in chapters] if chapters else toc
    first = first_numbers(toc)
    index = book_index(root, extra=paths)
    for kind in ("teacher", "student"):
        (out / kind).mkdir(parents=True, exist_ok=True)
        if not chapters:
            for old in (out / kind).glob("*.ipynb"):
                old.unlink()
    done, skipped = [], []
    for path in paths:
        editions = build_editions(path, first=first.get(path.resolve(), 1),
                                  index=index)
        if editions is None:
            skipped.append(path.stem)
            continue
        bad = leaked(editions)
        if bad:
            raise ConventionError(f"{path.name}: solution lines appear in "
                                  f"the student edition outside the "
                                  f"markers: {bad}")
        for kind in ("teacher", "student"):
            nbformat.write(getattr(editions, kind),
                           out / kind / f"{path.stem}.ipynb")
        log(f"{path.stem}: {editions.exercises} exercises, "
            f"{editions.solution_cells} solution cells, "
            f"{editions.check_cells} checks")
        done.append(editions)
    if skipped:
        log("no {exercise} directive yet (skipped): " + ", ".join(skipped))
    return done


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("chapters", nargs="*", type=Path,
                        help="chapter sources (default: every chapter in "
                             "the toc)")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the book's root folder (with _toc.yml)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default: ROOT/_build/"
                             "exercises)")
    args = parser.parse_args(argv)
    out = args.out or args.root / "_build" / "exercises"
    try:
        done = write_editions(args.root, out, args.chapters or None)
    except ConventionError as err:
        print(f"make_exercises: {err}", file=sys.stderr)
        return 1
    print(f"{len(done)} chapters: teacher edition in {out / 'teacher'}, "
          f"student edition in {out / 'student'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
