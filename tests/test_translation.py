"""The Chinese edition's catalogs: complete, current and faithful to the English.

`make test` extracts the English prose into fresh templates (`make pot`:
_build/i18n/_build/gettext/, no notebook runs) before these tests. A paragraph
whose English changed since the catalogs were last updated is then missing
from its catalog (and `make catalogs` would turn it into a fuzzy entry), so an
English edit that the translation did not follow fails here.

Every document of _toc.yml must have a catalog with every entry translated and
none fuzzy. A translation must keep what is not prose exactly: the inline math,
the code, the cross-references and citations, and the glued values, which must
name their document (tools/editions.py explains why). The seed article's terms
and the glossary's Chinese terms are used where the English uses the term.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from bookcheck import ROOT, toc_files
from test_glossary import GLOSSARY, glossary_rows

sys.path.insert(0, str(ROOT / "tools"))
import editions  # noqa: E402

POT = ROOT / "_build" / "i18n" / "_build" / "gettext"
DOCS = [p.relative_to(ROOT).with_suffix("").as_posix() for p in toc_files()]

if not POT.is_dir():
    pytest.fail("no message templates: run `make pot` (part of `make test`) first",
                pytrace=False)

MATH, CODE, ROLE = editions.MATH, editions.CODE, editions.ROLE


def _catalog(path: Path):
    return editions.read_catalog(path)


def _entries(doc: str):
    """(template entries, catalog entries by id) for one document."""
    pot = POT / f"{doc}.pot"
    po = editions.CATALOGS / f"{doc}.po"
    assert pot.is_file(), f"no template for {doc}: is it in _toc.yml?"
    assert po.is_file(), (f"{doc} has no Chinese catalog: run `make catalogs` and "
                          f"translate {po.relative_to(ROOT)}")
    template = [m for m in _catalog(pot) if m.id]
    catalog = {m.id: m for m in _catalog(po) if m.id}
    return template, catalog


@pytest.mark.parametrize("doc", DOCS)
def test_catalog_is_complete_and_current(doc):
    template, catalog = _entries(doc)
    missing = [m.id for m in template if m.id not in catalog]
    empty = [m.id for m in template if m.id in catalog and not catalog[m.id].string]
    fuzzy = [m.id for m in catalog.values() if m.fuzzy]
    short = lambda ids: [i[:70] for i in ids[:5]]  # noqa: E731
    assert not missing, (f"{doc}: {len(missing)} English paragraphs are not in the "
                         f"catalog (run `make catalogs`, then translate): {short(missing)}")
    assert not fuzzy, (f"{doc}: {len(fuzzy)} fuzzy entries (the English changed; "
                       f"update the translation, then drop the fuzzy flag): {short(fuzzy)}")
    assert not empty, f"{doc}: {len(empty)} untranslated entries: {short(empty)}"


@pytest.mark.parametrize("doc", DOCS)
def test_translation_keeps_math_code_references_and_glue(doc):
    template, catalog = _entries(doc)
    bad = []
    for m in template:
        t = catalog.get(m.id)
        if t is None or not t.string:
            continue        # reported by the completeness test
        bad += [f"{m.id[:60]!r}: {p}" for p in
                editions.problems(m.id, t.string, Path(doc).name + ".md")]
    assert not bad, f"{doc}: {len(bad)} entries:\n" + "\n".join(bad[:10])


def test_qualify_names_the_document_and_keeps_formats():
    doc = "05_matrix_backprop.md"
    q = editions.qualify_roles
    assert q("{glue:text}`ratio`", doc) == "{glue:text}`05_matrix_backprop.md::ratio:s`"
    assert q("{glue:text}`ratio:.2f`", doc) == (
        "{glue:text}`05_matrix_backprop.md::ratio:.2f`")
    assert q("{glue}`fig`", doc) == "{glue}`05_matrix_backprop.md::fig`"
    done = "{glue:text}`05_matrix_backprop.md::ratio:s`"
    assert q(done, doc) == done
    assert editions.glue_keys(done) == editions.glue_keys("{glue:text}`ratio`")


#: the seed article's own words (../shared/seed), which the Chinese edition uses
SEED_TERMS = {
    "backpropagation": ("反向传播", "回传误差"),
    "forward propagation": ("前向传播",),
    "forward pass": ("前向传播", "前向计算"),
    "activation function": ("激活函数",),
    "mean squared error": ("均方误差",),
    "learning rate": ("学习率",),
    "vanishing gradient": ("梯度消失",),
    "exploding gradient": ("梯度爆炸",),
}


def glossary_terms() -> dict[str, tuple[str, ...]]:
    """English term -> its accepted Chinese names: the seed's terms, and every
    glossary term of two or more words with the names of its Chinese column."""
    terms = dict(SEED_TERMS)
    for row in glossary_rows(GLOSSARY.read_text(encoding="utf-8")):
        english, chinese = row[0], row[3]
        english = re.sub(r"\s*\(.*?\)", "", english).strip().lower()
        names = [n for n in re.findall(r"[\u4e00-\u9fffδ]+[\u4e00-\u9fff0-9A-Za-z]*",
                                       chinese)]
        # one-word terms ("loss", "batch", "cost") have several right
        # renderings by context; terms of two or more words are names
        if (english and names and english not in terms
                and len(re.split(r"[\s\-–/]+", english)) >= 2):
            terms[english] = tuple(names)
    return terms


def test_glossary_gives_a_chinese_name_for_every_seed_term():
    terms = glossary_terms()
    assert len(terms) > 40
    for english in SEED_TERMS:
        assert english in terms


@pytest.mark.parametrize("doc", DOCS)
def test_translation_uses_the_glossary_terms(doc):
    """Where the English paragraph names a term, the Chinese one uses one of the
    glossary's (or the seed's) Chinese names for it, or keeps the English name
    (as Chinese texts do for softmax, ReLU or Adam)."""
    if doc.endswith("glossary"):
        pytest.skip("the glossary defines the terms")
    template, catalog = _entries(doc)
    terms = glossary_terms()
    bad = []
    for m in template:
        t = catalog.get(m.id)
        if t is None or not t.string:
            continue
        if any("seed-quote" in c for c in t.user_comments):
            continue    # the seed's own Chinese stands in for the English rendering
        prose = ROLE.sub(" ", CODE.sub(" ", MATH.sub(" ", m.id))).lower()
        # longest terms first: "activation function" is not also "activation"
        for english in sorted(terms, key=len, reverse=True):
            pattern = rf"\b{re.escape(english)}(?:s|es)?\b"
            if not re.search(pattern, prose):
                continue
            prose = re.sub(pattern, " ", prose)
            kept = (english not in SEED_TERMS          # softmax, Adam, XOR
                    and re.search(pattern, t.string.lower()))
            if not kept and not any(n in t.string for n in terms[english]):
                bad.append(f"{english!r} -> one of {terms[english]}: {m.id[:50]!r}")
    assert not bad, f"{doc}: {len(bad)} terms not rendered with the glossary's name:\n" \
        + "\n".join(bad[:10])


def test_problems_flag_a_changed_formula_a_lost_reference_and_a_lost_value():
    doc = "01_activations.md"
    en = ("So $\\sigma'(z) \\le$ {glue:text}`peak`, see {ref}`ch-vanishing` "
          "and the [crosswalk](intro-crosswalk).")
    good = ("因此 $\\sigma'(z) \\le$ {glue:text}`01_activations.md::peak:s`，"
            "见 {ref}`ch-vanishing` 与[对照表](intro-crosswalk)。")
    assert editions.problems(en, good, doc) == []
    titled = good.replace("{ref}`ch-vanishing`", "{ref}`梯度消失 <ch-vanishing>`")
    assert editions.problems(en, titled, doc) == []
    assert editions.problems(en, good.replace("\\le", "<"), doc)
    assert editions.problems(en, good.replace("{ref}`ch-vanishing`", ""), doc)
    assert editions.problems(en, good.replace("::peak:s", "::top:s"), doc)
    assert editions.problems(en, good.replace("01_activations.md::peak:s",
                                              "peak"), doc)


def test_every_phrase_inside_math_has_a_chinese_rendering():
    """Formulas are shared; a \\text{...} that reads as words (it holds a space)
    is translated by locale/zh_CN/math_text.yml on the Chinese pages."""
    import yaml

    import importlib.util

    # the Sphinx extension _ext/editions.py (not tools/editions.py)
    spec = importlib.util.spec_from_file_location("ext_editions",
                                                  ROOT / "_ext" / "editions.py")
    ext = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ext)

    table = yaml.safe_load((ROOT / "locale" / "zh_CN" / "math_text.yml")
                           .read_text(encoding="utf-8"))
    assert table == ext.math_words(ROOT, "zh_CN")
    missing = set()
    for path in toc_files():
        text = re.sub(r"```\{code-cell\}.*?```", "", path.read_text(encoding="utf-8"),
                      flags=re.S)
        for m in re.finditer(r"\$\$(.*?)\$\$|\$([^$\n]+)\$", text, re.S):
            for phrase in ext.TEXT_IN_MATH.findall(m.group(1) or m.group(2)):
                if re.search(r"[A-Za-z]", phrase) and " " in phrase \
                        and phrase not in table:
                    missing.add((path.stem, phrase))
    assert not missing, f"math words without a Chinese rendering: {sorted(missing)}"
    assert all(isinstance(v, str) and v for v in table.values())
