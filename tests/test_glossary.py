"""The glossary keeps its promise: every term links to the chapter that defines it,
every link points at a label that exists, and the linked chapter really uses the term."""

from __future__ import annotations

import re

import pytest

from bookcheck import ROOT, toc_files

GLOSSARY = ROOT / "book" / "glossary.md"
#: the columns of the glossary table, in order
COLUMNS = ["Term", "Symbol in this book", "Definition", "Chinese term", "Defined in"]
REF = re.compile(r"\{ref\}`(?:[^`<]*<)?(?P<label>[^`>]+)>?`")
EQ = re.compile(r"\{eq\}`(?P<label>[^`]+)`")
TARGET = re.compile(r"^\((?P<label>[A-Za-z0-9_.:-]+)\)=\s*$", re.M)
EQ_LABEL = re.compile(r"^\$\$[ \t]*\((?P<label>eq-[^)\s]+)\)[ \t]*$", re.M)


def split_row(line: str) -> list[str]:
    """The cells of one Markdown table row (pipes inside `code` or $math$ are
    not expected in this table, so a plain split is enough)."""
    return [c.strip() for c in line.strip().strip("|").split("|")]


def glossary_rows(text: str) -> list[list[str]]:
    """The body rows of the glossary's table, as lists of cells."""
    lines = [l for l in text.splitlines() if l.startswith("|")]
    assert lines, "the glossary has no table"
    assert split_row(lines[0]) == COLUMNS, split_row(lines[0])
    assert set(lines[1].replace("|", "").strip()) <= set("-: "), "no separator row"
    return [split_row(l) for l in lines[2:]]


def english_words(term: str) -> list[str]:
    """The spellings of a term to look for in its chapter: the term without its
    parenthesis, each side of a " / " on its own, and the abbreviation in the
    parenthesis when there is one ("stochastic gradient descent (SGD)")."""
    main = re.sub(r"\s*\(.*?\)", "", term).strip()
    words = [w.strip() for w in main.split(" / ")]
    return [w for w in words if w]


def normalize(text: str) -> str:
    """Lower case, without Markdown emphasis, with hyphens, en and em dashes and
    runs of space (line breaks too) made one space, so "vector–Jacobian" matches
    "vector-Jacobian" and "the *generalized*\ndelta rule" matches too."""
    return re.sub(r"[\s\-\u2010-\u2015]+", " ", text.lower().replace("*", ""))


SOURCES = {p: p.read_text() for p in toc_files()}
LABELS = {m.group("label"): p for p, t in SOURCES.items() for m in TARGET.finditer(t)}
EQ_LABELS = {m.group("label") for t in SOURCES.values() for m in EQ_LABEL.finditer(t)}
ROWS = glossary_rows(GLOSSARY.read_text())
TERMS = [r[0] for r in ROWS]


def test_the_table_is_well_formed_and_sorted():
    assert len(ROWS) >= 40
    bad = [r[0] for r in ROWS if len(r) != len(COLUMNS) or not all(r)]
    assert not bad, f"rows with a missing or extra cell: {bad}"
    assert len(set(TERMS)) == len(TERMS), "a term is listed twice"
    key = [normalize(t) for t in TERMS]
    assert key == sorted(key), "terms are not in alphabetical order"


def test_the_promised_terms_are_there():
    """The terms the introduction's promise ("every term") was found to miss."""
    promised = ["logit", "Jacobian", "vector–Jacobian product (VJP)", "log-sum-exp",
                "fan-in / fan-out", "machine epsilon", "truncation error",
                "round-off (rounding error)", "multiply-add", "checkpointing", "scatter-add",
                "broadcasting", "generalized delta rule", "mutation testing",
                "number of samples", "local optimization", "local minimum"]
    missing = [t for t in promised if t not in TERMS]
    assert not missing, missing


@pytest.mark.parametrize("row", ROWS, ids=TERMS)
def test_term_links_to_a_chapter_that_exists(row):
    labels = [m.group("label") for m in REF.finditer(row[-1])]
    assert labels, f"{row[0]!r}: no {{ref}} link in the 'Defined in' column"
    unknown = [l for l in labels if l not in LABELS]
    assert not unknown, f"{row[0]!r} links to labels no page defines: {unknown}"
    eqs = [m.group("label") for cell in row for m in EQ.finditer(cell)]
    gone = [e for e in eqs if e not in EQ_LABELS]
    assert not gone, f"{row[0]!r} cites equations no page defines: {gone}"


@pytest.mark.parametrize("row", ROWS, ids=TERMS)
def test_the_defining_chapter_uses_the_term(row):
    """The first page the row links to contains the term (or, for "a / b", both)."""
    label = REF.search(row[-1]).group("label")
    page = LABELS.get(label)
    assert page is not None, f"{row[0]!r}: unknown label {label}"
    text = normalize(SOURCES[page])
    absent = [w for w in english_words(row[0]) if normalize(w) not in text]
    assert not absent, f"{row[0]!r}: {page.name} never says {absent}"


def test_the_checks_can_fail():
    table = "\n".join(["| " + " | ".join(COLUMNS) + " |", "|---|---|---|---|---|",
                       "| zeta | — | A made-up term. | — | {ref}`ch-nowhere` |"])
    (row,) = glossary_rows(table)
    assert REF.search(row[-1]).group("label") not in LABELS
    assert english_words("fan-in / fan-out (n)") == ["fan-in", "fan-out"]
    assert normalize("Vector–Jacobian  product") == normalize("vector-jacobian product")
    assert "generalized delta rule" in normalize("the *generalized*\ndelta rule")
    assert "zeta" not in normalize(SOURCES[LABELS["ch-activations"]]).split()
