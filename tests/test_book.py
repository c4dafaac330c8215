"""The book's promises, checked on its sources: every labelled equation has an executed
check, every glued number is computed in the same chapter, chapters have the agreed shape."""

import re

import pytest

from bookcheck import (ROOT, checked_labels, equation_report, equations,
                       notebook_files, toc_files, wide_code_lines)

TEXTS = {p.relative_to(ROOT).as_posix(): p.read_text() for p in toc_files()}


def test_toc_lists_intro_chapters_and_bibliography():
    names = list(TEXTS)
    assert names[0] == "book/intro.md"
    assert "book/bibliography.md" in names
    for path in notebook_files():
        assert re.fullmatch(r"\d\d_[a-z0-9_]+\.md", path.name), path.name
        head = path.read_text().split("---")[1]
        assert "format_name: myst" in head and "name: python3" in head, path.name


def test_every_display_equation_is_labelled_and_checked():
    report = equation_report(TEXTS)
    assert report == {"unlabelled": [], "unchecked": [], "unknown": [], "no_assert": [],
                      "duplicate": []}, report
    n = sum(len(equations(t)) for t in TEXTS.values())
    assert n >= 9  # the activations chapter alone has nine


def test_the_check_fails_when_a_check_cell_is_deleted():
    text = (ROOT / "book/01_activations.md").read_text()
    cell = re.search(r"```\{code-cell\}[^\n]*\n# checks: eq-relu, eq-relu-prime\n.*?^```\n", text, re.S | re.M)
    assert cell, "the ReLU check cell of the activations chapter moved; update this test"
    broken = text.replace(cell.group(0), "")
    report = equation_report({"book/01_activations.md": broken})
    assert report["unchecked"] == ["eq-relu"]  # eq-relu-prime is also checked by a later cell
    report = equation_report({"x.md": "$$\na = b\n$$\n"})
    assert report["unlabelled"] and not report["unchecked"]
    report = equation_report({"x.md": "$$\na = b\n$$ (eq-x)\n\n```{code-cell} ipython3\n# checks: eq-x\nprint(1)\n```\n"})
    assert report["no_assert"] == ["eq-x"]


def test_checks_lines_are_found_only_in_code_cells():
    text = "$$\na\n$$ (eq-a)\n\nSome prose\n# checks: eq-a\n"
    assert checked_labels(text) == {}


@pytest.mark.parametrize("name", [n for n, t in TEXTS.items() if "{glue:" in t])
def test_every_glued_key_is_computed_in_its_chapter(name):
    text = TEXTS[name]
    used = set(re.findall(r"\{glue:?[a-z]*\}`([^`]+)`", text))
    used |= set(re.findall(r"```\{glue:figure\}\s+(\S+)", text))
    defined = set(re.findall(r"glue\(\s*[\"']([^\"']+)[\"']", text))
    defined |= set(re.findall(r"glue\(\s*f[\"']([^\"'{]+)", text))  # prefixes of f-string keys
    missing = sorted(k for k in used if k not in defined and not any(k.startswith(d) for d in defined))
    assert not missing, f"{name} quotes glue keys no cell defines: {missing}"


@pytest.mark.parametrize("name", list(TEXTS))
def test_every_figure_has_alt_text_and_a_caption(name):
    for m in re.finditer(r"```\{(glue:figure|figure|image)\}[^\n]*\n(.*?)^```", TEXTS[name], re.S | re.M):
        lines = m.group(2).splitlines()
        assert any(l.startswith(":alt:") and l[5:].strip() for l in lines), f"{name}: figure without :alt:"
        if m.group(1) != "image":
            assert any(l.strip() and not l.startswith(":") for l in lines), f"{name}: figure without caption"


@pytest.mark.parametrize("name", list(TEXTS))
def test_code_on_the_page_fits_79_columns(name):
    """Code cells and the package code a chapter shows stay within 79 columns, so
    nothing scrolls sideways on the rendered page (or runs off a printed one)."""
    wide = wide_code_lines(TEXTS[name], (ROOT / name).parent)
    assert not wide, f"{name}: {len(wide)} lines wider than 79 columns, e.g. {wide[:3]}"


def test_the_width_check_sees_cells_and_included_code():
    cell = "```{code-cell} ipython3\n:tags: [hide-input]\nx = 1" + " " * 80 + "\n```\n"
    assert len(wide_code_lines(cell, ROOT / "book")) == 1
    assert wide_code_lines(cell.replace(" " * 80, ""), ROOT / "book") == []


def test_determinism_check_reads_myst_nbs_merged_streams():
    """The build stores a stream that arrived in chunks as the merged text followed by
    the chunks again (myst-nb merges in place); nbval sees the chunks. Equal text must
    compare equal, and different text must still differ."""
    from conftest import text_outputs

    def stream(text):
        return {"output_type": "stream", "name": "stdout", "text": text}

    chunks = [stream("a = 1\n"), stream("b = 2\n"), stream("c = 3\n")]
    stored = [stream("a = 1\nb = 2\nc = 3\n"), stream("b = 2\n"), stream("c = 3\n")]
    assert text_outputs(stored, reference=True) == text_outputs(chunks)
    assert text_outputs([stream("a = 1\n")], reference=True) == text_outputs(
        [stream("a = 1\n")])
    changed = [stream("a = 1\n"), stream("b = 2\n"), stream("c = 4\n")]
    assert text_outputs(stored, reference=True) != text_outputs(changed)
    repeated = [stream("x\n"), stream("x\n")]
    stored_rep = [stream("x\nx\n"), stream("x\n")]
    assert text_outputs(stored_rep, reference=True) == text_outputs(repeated)
    assert text_outputs(stored_rep, reference=True) != text_outputs([stream("x\n")])
