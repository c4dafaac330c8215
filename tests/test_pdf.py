"""The PDF edition (`make pdf`, run by `make test` after the HTML build): the book as
one PDF built by Sphinx's LaTeX builder and xelatex, checked through its text
(pdftotext, Debian's poppler-utils), the LaTeX source and the xelatex log.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import lru_cache

import pytest

from bookcheck import ROOT, toc_files

PDF = ROOT / "_build" / "pdf" / "backprop-executed.pdf"
LATEX = ROOT / "_build" / "latex"
TEX = LATEX / "backprop-executed.tex"
LOG = LATEX / "backprop-executed.log"
SPHINX_LOG = ROOT / "_build" / "pdf" / "sphinx.log"
HTML = ROOT / "_build" / "html"
#: "a few points": the widest overfull line a code listing may have
MAX_CODE_OVERFULL_PT = 3.0

if not PDF.is_file():
    pytest.fail("the PDF is not built: run `make pdf` (or `make test`) first", pytrace=False)
if shutil.which("pdftotext") is None:
    pytest.fail("pdftotext is missing: apt-get install poppler-utils (make pdf does)",
                pytrace=False)


@lru_cache(maxsize=None)
def pdf_text() -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(PDF), "-"],
                         capture_output=True, text=True, check=True)
    return out.stdout


def flat(text: str) -> str:
    """Whitespace runs as one space, and words hyphenated at a line end joined."""
    return re.sub(r"\s+", " ", re.sub(r"-\n(?=[a-z])", "", text))


def title(path) -> str:
    heading = re.search(r"^# (.+)$", path.read_text(encoding="utf-8"), re.M)
    assert heading, f"{path.name} has no '# ' title"
    return heading.group(1).strip()


def source_figures() -> int:
    """Figure directives ({figure}, {glue:figure}) in the toc's sources."""
    fence = re.compile(r"^(?:`{3,}|:{3,})\{(?:glue:)?figure\}", re.M)
    return sum(len(fence.findall(p.read_text(encoding="utf-8"))) for p in toc_files())


def source_solutions() -> int:
    fence = re.compile(r"^(?:`{3,}|:{3,})\{solution(?:-start)?\}", re.M)
    return sum(len(fence.findall(p.read_text(encoding="utf-8"))) for p in toc_files())


def test_the_pdf_has_pages():
    info = subprocess.run(["pdfinfo", str(PDF)], capture_output=True, text=True,
                          check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert pages >= 10 * len(toc_files()) // 2, f"only {pages} pages"


@pytest.mark.parametrize("source", toc_files(), ids=lambda p: p.name)
def test_every_chapter_title_is_in_the_pdf(source):
    assert flat(title(source)) in flat(pdf_text()), f"{title(source)!r} is not in the PDF"


def test_no_unresolved_reference():
    text = pdf_text()
    where = [flat(text[max(0, m.start() - 60):m.end() + 20]) for m in re.finditer(r"\?\?", text)]
    assert not where, f"unresolved references ('??') in the PDF: {where[:5]}"
    log = LOG.read_text(errors="replace")
    undefined = re.findall(r"(?:Reference|Citation) `[^']+' on page \d+ undefined", log)
    assert not undefined, undefined[:5]
    assert "There were undefined references" not in log


def test_every_figure_is_embedded():
    tex = TEX.read_text(encoding="utf-8")
    included = re.findall(r"\\sphinxincludegraphics(?:\[[^\]]*\])?\{\{?([^}]+)\}", tex)
    expected = source_figures()
    assert expected > 0
    # each figure directive became an image, none fell back to its text form
    assert len(included) >= expected, f"{len(included)} images for {expected} figures"
    assert "<Figure size" not in tex and "<Figure size" not in pdf_text()
    missing = [name for name in included if not any(
        (LATEX / f"{name}{ext}").is_file() for ext in ("", ".pdf", ".png", ".jpg"))]
    assert not missing, f"images the LaTeX build does not have: {missing[:5]}"
    svg = [name for name in included if name.endswith(".svg")]
    assert not svg, f"SVG left unconverted: {svg[:5]}"
    # and each one is in the PDF: a numbered caption per figure
    captions = re.findall(r"^Fig\. \d+\.\d+:", pdf_text(), re.M)
    assert len(captions) >= expected, f"{len(captions)} figure captions for {expected}"


def equation_numbers(tex: str) -> list[str]:
    """The numbers LaTeX gives the labelled display equations: (chapter.n)."""
    numbers, chapter, n = [], 0, 0
    for line in tex.splitlines():
        if line.startswith("\\chapter{"):
            chapter, n = chapter + 1, 0
        elif line.startswith("\\begin{equation}\\label{equation:"):
            n += 1
            numbers.append(f"({chapter}.{n})")
    return numbers


def test_math_is_typeset_with_equation_numbers():
    numbers = equation_numbers(TEX.read_text(encoding="utf-8"))
    assert numbers, "no numbered equation in the LaTeX"
    text = pdf_text()
    missing = [number for number in numbers if number not in text]
    assert not missing, f"equation numbers missing from the PDF: {missing[:10]}"
    # math that reached LaTeX as text would print its delimiters
    assert "$$" not in text and "\\[" not in text


def test_solutions_are_printed_after_their_chapter():
    expected = source_solutions()
    text = flat(pdf_text())
    printed = len(re.findall(r"Solution to Exercise \d+", text))
    assert printed == expected, f"{printed} solutions printed of {expected}"
    tex = TEX.read_text(encoding="utf-8")
    if expected:
        assert r"\section{Solutions}" in tex


def _verbatim_lines(tex: str) -> set[int]:
    """The .tex line numbers inside sphinxVerbatim environments (code listings,
    and text outputs of cells)."""
    lines, inside = set(), False
    for number, line in enumerate(tex.splitlines(), 1):
        if re.search(r"\\begin\{sphinxVerbatim\}", line):
            inside = True
        if inside:
            lines.add(number)
        if re.search(r"\\end\{sphinxVerbatim\}", line):
            inside = False
    return lines


OVERFULL = re.compile(r"^Overfull \\hbox \((?P<pt>[\d.]+)pt too wide\) "
                      r"(?:in paragraph at lines (?P<a>\d+)--(?P<b>\d+)"
                      r"|detected at line (?P<c>\d+))", re.M)


def wide_code(tex: str, log: str, limit: float = MAX_CODE_OVERFULL_PT) -> list[str]:
    """Overfull lines wider than ``limit`` points whose TeX lines are code."""
    code = _verbatim_lines(tex)
    wide = []
    for m in OVERFULL.finditer(log):
        start = int(m.group("a") or m.group("c"))
        end = int(m.group("b") or m.group("c"))
        if float(m.group("pt")) > limit and any(n in code for n in range(start, end + 1)):
            wide.append(f"{m.group('pt')}pt at TeX line {start}")
    return wide


def test_the_overflow_check_sees_a_wide_listing():
    tex = "text\n\\begin{sphinxVerbatim}[commandchars=\\\\\\{\\}]\nx = 1\n\\end{sphinxVerbatim}\n"
    log = ("Overfull \\hbox (12.5pt too wide) in paragraph at lines 3--3\n"
           "Overfull \\hbox (40.0pt too wide) in paragraph at lines 1--1\n"
           "Overfull \\hbox (2.0pt too wide) in paragraph at lines 3--3\n")
    assert wide_code(tex, log) == ["12.5pt at TeX line 3"]


def test_code_listings_stay_on_the_page():
    tex = TEX.read_text(encoding="utf-8")
    assert _verbatim_lines(tex), "no code listing in the PDF"
    wide = wide_code(tex, LOG.read_text(errors="replace"))
    assert not wide, f"code listings run off the page: {wide[:10]}"


def test_every_html_page_links_the_pdf():
    if not (HTML / "index.html").is_file():
        pytest.skip("no HTML build")
    copy = HTML / PDF.name
    assert copy.is_file() and copy.read_bytes() == PDF.read_bytes(), \
        "make pdf copies the PDF into _build/html"
    for source in toc_files():
        page = HTML / source.relative_to(ROOT).with_suffix(".html")
        html = page.read_text(encoding="utf-8")
        depth = len(source.relative_to(ROOT).parts) - 1
        assert f'href="{"../" * depth}{PDF.name}"' in html, f"{page.name} has no PDF link"


def test_the_pdf_build_executed_no_notebook_after_the_html_build():
    if not SPHINX_LOG.is_file() or not (HTML / "index.html").is_file():
        pytest.skip("no HTML build before the PDF")
    if (HTML / "index.html").stat().st_mtime > SPHINX_LOG.stat().st_mtime:
        pytest.skip("the HTML was built after the PDF")
    log = SPHINX_LOG.read_text(errors="replace")
    assert "Executing notebook" not in log and "Executed notebook" not in log
