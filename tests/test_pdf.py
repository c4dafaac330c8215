"""The PDF editions (`make pdf`, run by `make test` after the HTML build): the book
as one PDF per edition, English and Chinese, built by Sphinx's LaTeX builder and
xelatex, checked through its text (pdftotext, Debian's poppler-utils), the LaTeX
source and the xelatex log.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest

from bookcheck import ROOT, toc_files

sys.path.insert(0, str(ROOT / "tools"))
import editions  # noqa: E402

#: "a few points": the widest overfull line a code listing may have
MAX_CODE_OVERFULL_PT = 3.0


@dataclass(frozen=True)
class Edition:
    name: str            # en, zh
    pdf: Path            # the PDF make pdf writes
    latex: Path          # the LaTeX build's folder
    stem: str            # its .tex, .log
    sphinx_log: Path     # the LaTeX build's Sphinx output
    html: Path           # the edition's HTML (where its PDF is linked and copied)
    #: a figure caption's number, a printed solution's title, as pdftotext reads them
    caption: str
    solution: str

    @property
    def tex(self) -> Path:
        return self.latex / f"{self.stem}.tex"

    @property
    def log(self) -> Path:
        return self.latex / f"{self.stem}.log"


EDITIONS = {
    "en": Edition("en", ROOT / "_build" / "pdf" / "backprop-executed.pdf",
                  ROOT / "_build" / "latex", "backprop-executed",
                  ROOT / "_build" / "pdf" / "sphinx.log", ROOT / "_build" / "html",
                  caption=r"^Fig\. \d+\.\d+:",
                  solution=r"Solution to Exercise \d+"),
    # Sphinx's own zh_CN names: 图 1.2 for a figure; sphinx-exercise's 解答 练习 3
    "zh": Edition("zh", ROOT / "_build" / "pdf" / "backprop-executed-zh.pdf",
                  ROOT / "_build" / "zh" / "_build" / "latex", "backprop-executed-zh",
                  ROOT / "_build" / "pdf" / "sphinx-zh.log",
                  ROOT / "_build" / "html" / "zh",
                  caption=r"^图 ?\d+\.\d+[:：]",
                  solution=r"解答 ?练习 ?\d+"),
}

missing = [e.pdf.relative_to(ROOT) for e in EDITIONS.values() if not e.pdf.is_file()]
if missing:
    pytest.fail(f"the PDF is not built ({', '.join(map(str, missing))}): run `make pdf` "
                "(or `make test`) first", pytrace=False)
if shutil.which("pdftotext") is None:
    pytest.fail("pdftotext is missing: apt-get install poppler-utils (make pdf does)",
                pytrace=False)

edition = pytest.mark.parametrize("ed", list(EDITIONS.values()), ids=list(EDITIONS))


@lru_cache(maxsize=None)
def pdf_text(ed: Edition = EDITIONS["en"]) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(ed.pdf), "-"],
                         capture_output=True, text=True, check=True)
    return out.stdout


def flat(text: str) -> str:
    """Whitespace runs as one space, and words hyphenated at a line end joined."""
    return re.sub(r"\s+", " ", re.sub(r"-\n(?=[a-z])", "", text))


def title(path) -> str:
    heading = re.search(r"^# (.+)$", path.read_text(encoding="utf-8"), re.M)
    assert heading, f"{path.name} has no '# ' title"
    return heading.group(1).strip()


def zh_title(path) -> str:
    """A document's title in the Chinese edition: the translation its catalog
    gives the English title (the catalog's first entry)."""
    doc = path.relative_to(ROOT).with_suffix("").as_posix()
    po = editions.CATALOGS / f"{doc}.po"
    assert po.is_file(), f"{doc} has no Chinese catalog"
    english = title(path)
    for message in editions.read_catalog(po):
        if message.id == english:
            assert message.string and not message.fuzzy, f"{doc}: title not translated"
            return message.string
    raise AssertionError(f"{po.name} has no entry for the title {english!r}")


def no_space(text: str) -> str:
    """pdftotext breaks Chinese lines anywhere and spaces Latin words in them
    freely: compare Chinese text without any white space."""
    return re.sub(r"\s+", "", text)


def source_figures() -> int:
    """Figure directives ({figure}, {glue:figure}) in the toc's sources."""
    fence = re.compile(r"^(?:`{3,}|:{3,})\{(?:glue:)?figure\}", re.M)
    return sum(len(fence.findall(p.read_text(encoding="utf-8"))) for p in toc_files())


def source_solutions() -> int:
    fence = re.compile(r"^(?:`{3,}|:{3,})\{solution(?:-start)?\}", re.M)
    return sum(len(fence.findall(p.read_text(encoding="utf-8"))) for p in toc_files())


@edition
def test_the_pdf_has_pages(ed):
    info = subprocess.run(["pdfinfo", str(ed.pdf)], capture_output=True, text=True,
                          check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert pages >= 10 * len(toc_files()) // 2, f"only {pages} pages"


@pytest.mark.parametrize("source", toc_files(), ids=lambda p: p.name)
def test_every_chapter_title_is_in_the_pdf(source):
    assert flat(title(source)) in flat(pdf_text()), f"{title(source)!r} is not in the PDF"


@pytest.mark.parametrize("source", toc_files(), ids=lambda p: p.name)
def test_every_chapter_title_is_in_the_chinese_pdf(source):
    wanted = zh_title(source)
    assert no_space(wanted) in no_space(pdf_text(EDITIONS["zh"])), \
        f"{wanted!r} is not in the Chinese PDF"


def toc_parts() -> list[str]:
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [part["caption"] for part in toc.get("parts", []) if part.get("caption")]


def zh_part_titles() -> list[str]:
    """The Chinese names of the book's parts (the toc's captions): the
    translations the root document's catalog gives them."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    captions = toc_parts()
    po = editions.CATALOGS / f"{toc['root']}.po"
    names = {m.id: m.string for m in editions.read_catalog(po) if m.id and m.string}
    missing = [c for c in captions if c not in names]
    assert not missing, f"{po.name} does not translate the parts {missing}"
    return [names[c] for c in captions]


def test_the_chinese_pdf_is_in_chinese():
    text = no_space(pdf_text(EDITIONS["zh"]))
    han = len(re.findall(r"[\u4e00-\u9fff]", text))
    assert han > len(text) // 10, f"only {han} Chinese characters of {len(text)}"
    assert "目录" in text, "the table of contents has no Chinese title"
    parts = zh_part_titles()
    assert parts, "no part in _toc.yml"
    missing = [name for name in parts if no_space(name) not in text]
    assert not missing, f"parts without their Chinese names: {missing}"
    tex = EDITIONS["zh"].tex.read_text(encoding="utf-8")
    # full-width Chinese quotes: the English edition's Latin rule for them is not here
    assert "xeCJKDeclareCharClass" not in tex and r"\usepackage{xeCJK}" in tex


@edition
def test_no_unresolved_reference(ed):
    text = pdf_text(ed)
    where = [flat(text[max(0, m.start() - 60):m.end() + 20]) for m in re.finditer(r"\?\?", text)]
    assert not where, f"unresolved references ('??') in the PDF: {where[:5]}"
    log = ed.log.read_text(errors="replace")
    undefined = re.findall(r"(?:Reference|Citation) `[^']+' on page \d+ undefined", log)
    assert not undefined, undefined[:5]
    assert "There were undefined references" not in log


@edition
def test_every_figure_is_embedded(ed):
    tex = ed.tex.read_text(encoding="utf-8")
    included = re.findall(r"\\sphinxincludegraphics(?:\[[^\]]*\])?\{\{?([^}]+)\}", tex)
    expected = source_figures()
    assert expected > 0
    # each figure directive became an image, none fell back to its text form
    assert len(included) >= expected, f"{len(included)} images for {expected} figures"
    assert "<Figure size" not in tex and "<Figure size" not in pdf_text(ed)
    missing = [name for name in included if not any(
        (ed.latex / f"{name}{ext}").is_file() for ext in ("", ".pdf", ".png", ".jpg"))]
    assert not missing, f"images the LaTeX build does not have: {missing[:5]}"
    svg = [name for name in included if name.endswith(".svg")]
    assert not svg, f"SVG left unconverted: {svg[:5]}"
    # and each one is in the PDF: a numbered caption per figure
    captions = re.findall(ed.caption, pdf_text(ed), re.M)
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


@edition
def test_math_is_typeset_with_equation_numbers(ed):
    numbers = equation_numbers(ed.tex.read_text(encoding="utf-8"))
    assert numbers, "no numbered equation in the LaTeX"
    text = pdf_text(ed)
    missing = [number for number in numbers if number not in text]
    assert not missing, f"equation numbers missing from the PDF: {missing[:10]}"
    # math that reached LaTeX as text would print its delimiters
    assert "$$" not in text and "\\[" not in text


@edition
def test_solutions_are_printed_after_their_chapter(ed):
    expected = source_solutions()
    text = flat(pdf_text(ed))
    printed = len(re.findall(ed.solution, text))
    assert printed == expected, f"{printed} solutions printed of {expected}"
    tex = ed.tex.read_text(encoding="utf-8")
    if expected:
        heading = "习题解答" if ed.name == "zh" else "Solutions"
        assert f"\\section{{{heading}}}" in tex


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


@edition
def test_code_listings_stay_on_the_page(ed):
    tex = ed.tex.read_text(encoding="utf-8")
    assert _verbatim_lines(tex), "no code listing in the PDF"
    wide = wide_code(tex, ed.log.read_text(errors="replace"))
    assert not wide, f"code listings run off the page: {wide[:10]}"


def wide_lines(log: str, limit: float = MAX_CODE_OVERFULL_PT) -> list[str]:
    """Every overfull line wider than ``limit`` points: prose, table cells,
    code."""
    return [f"{m.group('pt')}pt at TeX line {m.group('a') or m.group('c')}"
            for m in OVERFULL.finditer(log) if float(m.group("pt")) > limit]


def test_the_overflow_check_sees_a_wide_table_cell():
    log = ("Overfull \\hbox (14.86pt too wide) in paragraph at lines 500--500\n"
           "Overfull \\hbox (1.5pt too wide) in paragraph at lines 9--9\n")
    assert wide_lines(log) == ["14.86pt at TeX line 500"]


@edition
def test_no_line_runs_into_the_margin(ed):
    """Not only code: a narrow table column (the intro's notation table had
    'pre-activation' 14.9 pt into the next column) is given widths with
    {tabularcolumns}."""
    wide = wide_lines(ed.log.read_text(errors="replace"))
    assert not wide, f"lines run into the margin: {wide[:10]}"


@edition
def test_every_html_page_links_the_pdf(ed):
    if not (ed.html / "index.html").is_file():
        pytest.skip("no HTML build")
    copy = ed.html / ed.pdf.name
    assert copy.is_file() and copy.read_bytes() == ed.pdf.read_bytes(), \
        f"make pdf copies the PDF into {ed.html.relative_to(ROOT)}"
    others = [e.pdf.name for e in EDITIONS.values() if e is not ed]
    for source in toc_files():
        page = ed.html / source.relative_to(ROOT).with_suffix(".html")
        html = page.read_text(encoding="utf-8")
        depth = len(source.relative_to(ROOT).parts) - 1
        assert f'href="{"../" * depth}{ed.pdf.name}"' in html, f"{page.name} has no PDF link"
        # the edition's own PDF, not the other's
        assert not any(f"{name}\"" in html for name in others), \
            f"{page.name} links another edition's PDF"


@edition
def test_the_pdf_build_executed_no_notebook_after_the_html_build(ed):
    if not ed.sphinx_log.is_file() or not (ed.html / "index.html").is_file():
        pytest.skip("no HTML build before the PDF")
    if (ed.html / "index.html").stat().st_mtime > ed.sphinx_log.stat().st_mtime:
        pytest.skip("the HTML was built after the PDF")
    log = ed.sphinx_log.read_text(errors="replace")
    assert "Executing notebook" not in log and "Executed notebook" not in log


@edition
def test_a_part_page_names_its_part_once(ed):
    """A part's caption already says "Part I: …" (第一部分：…): the page
    prints no "Part I" line above it."""
    names = toc_parts() if ed.name == "en" else zh_part_titles()
    pages = pdf_text(ed).split("\f")
    for name in names:
        # the part's page: its name and the page number, nothing else
        page = next((p for p in pages if no_space(name) in no_space(p)
                     and len(no_space(p)) < len(no_space(name)) + 30), None)
        assert page is not None, f"no page for the part {name!r}"
        assert no_space(page).startswith(no_space(name)), (
            f"the part page starts {page.strip()[:40]!r}, not {name!r}")


def test_the_chinese_chapter_heads_and_title_page():
    text = pdf_text(EDITIONS["zh"])
    # a chapter head: a page that starts with 第 N 章, for every chapter
    heads = [int(m.group(1)) for page in text.split("\f")
             if (m := re.match(r"\s*第\s*(\d+)\s*章", page))]
    numbered = [f for f in toc_files() if re.match(r"\d\d_", f.name)]
    assert heads[:len(numbered)] == list(range(1, len(numbered) + 1)), heads
    # the title page: the Chinese subtitle on a line of its own
    main, sub = editions.split_title(editions.translated_title(
        editions.configs()["en"]["title"]))
    assert sub, "the Chinese title has no subtitle in （）"
    first = [line.strip() for line in text.split("\f")[0].splitlines()
             if line.strip()]
    assert main in first and sub in first, first[:4]
    assert editions.split_title("Backprop, executed（可执行的反向传播）") == (
        "Backprop, executed", "可执行的反向传播")
    assert editions.split_title("No subtitle") == ("No subtitle", "")
