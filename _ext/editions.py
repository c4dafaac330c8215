"""The book's two editions, English and Chinese, from one source.

The Chinese edition is the same Sphinx project built with ``language =
zh_CN``: Sphinx replaces each paragraph by its translation from
``locale/zh_CN/LC_MESSAGES/<document>.po`` while it reads the document, so
the code cells, their outputs, the figures and the glued numbers are the
very ones of the English edition (see tools/editions.py, which builds both).

This extension does two things for both editions:

- It decides what a translator sees. Display math, and any paragraph that
  holds only math, code or references (a glossary cell such as
  ``$f$, $f'$``), is marked untranslatable: a copy in a catalog could only
  drift from the formula. MyST does not record where a paragraph inside a
  table cell comes from, and Sphinx skips text without a source; such
  paragraphs inherit their table's position, so the glossary's cells are
  translated like any paragraph; so do the exercises' titles.
- It puts a link to the same page in the other edition into every page's
  header (``edition-switch.html``).
- In the Chinese edition, lists of references only (the glossary's
  "Defined in" cells) are joined by 、, not by ", ".
- The Chinese edition quotes the seed (chapter 13) without the English
  renderings the English edition adds (``{.seed-gloss}`` paragraphs).
- A glued LaTeX value pasted from a translated paragraph is set as math.
- The few words inside formulas (``\\text{…}``) are translated by one table,
  ``locale/<lang>/math_text.yml``.
- In the Chinese edition a glued figure ``key`` is replaced by ``key-zh``
  where the chapter glued such a variant, its words set in Chinese, and its
  alt text comes from ``locale/<lang>/figure_alt.yml``. The Chinese edition lives in ``zh/``
  under the English one, with the same page paths.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform

#: where each edition lives, relative to the English edition's root
EDITIONS = {"en": "", "zh_CN": "zh/"}
LABELS = {"en": "English", "zh_CN": "中文"}

_NOT_PROSE = (nodes.math, nodes.literal, nodes.FixedTextElement)
#: text that MyST or sphinx-exercise leave without a source position: table
#: cells' paragraphs and the exercises' titles (a subtitle after "Exercise N")
_NEEDS_SOURCE = (nodes.paragraph, nodes.subtitle)
_NOT_PROSE_NAMES = ("pending_xref", "PendingGlueReference")


def has_words(node: nodes.Node) -> bool:
    """Whether ``node`` has text of its own outside math, code and refs."""
    for text in node.findall(nodes.Text):
        parent = text.parent
        while parent is not None and parent is not node:
            if (isinstance(parent, _NOT_PROSE)
                    or (type(parent).__name__ in _NOT_PROSE_NAMES
                        # a link with its own words, [text](label), is prose
                        and not parent.get("refexplicit"))):
                break
            parent = parent.parent
        else:
            if any(ch.isalpha() for ch in str(text)):
                return True
    return False


def source_text(node: nodes.Node) -> str:
    """The text of ``node`` with its inline math and code written back as
    MyST (``$…$``, backticks): the message of a node that has no source."""
    if isinstance(node, nodes.math):
        return f"${node.astext()}$"
    if isinstance(node, nodes.literal):
        return f"`{node.astext()}`"
    if isinstance(node, nodes.Text):
        return str(node)
    return "".join(source_text(child) for child in node.children)


class PrepareTranslatable(SphinxTransform):
    """Mark what is not prose untranslatable; give table cells a source."""

    default_priority = 10   # before sphinx.transforms.i18n.Locale (20)

    def apply(self, **kwargs) -> None:
        for node in self.document.findall(nodes.math_block):
            node["translatable"] = False
        for node in self.document.findall(nodes.paragraph):
            if SEED_GLOSS in node["classes"]:
                node["translatable"] = False     # see EnglishGlossesOnly
        for node in self.document.findall(nodes.TextElement):
            if isinstance(node, (nodes.Inline, nodes.FixedTextElement)):
                continue
            if not has_words(node):
                node["translatable"] = False
                continue
            if node.source or not isinstance(node, _NEEDS_SOURCE):
                continue
            parent = node.parent
            while parent is not None and not parent.source:
                parent = parent.parent
            if parent is not None:
                node.source, node.line = parent.source, parent.line
            if isinstance(node, nodes.subtitle) and not node.rawsource:
                # sphinx-exercise's title: the text after "Exercise N"
                node.rawsource = source_text(node)


#: the class (MyST ``{.seed-gloss}``) of an English rendering of a quotation
#: from the seed, which is Chinese: chapter 13's table quotes the seed in
#: the original and then in English
SEED_GLOSS = "seed-gloss"


class EnglishGlossesOnly(SphinxTransform):
    """The Chinese edition shows the seed's words as they are: the English
    renderings that follow them (``{.seed-gloss}`` paragraphs, never in a
    catalog) are removed."""

    default_priority = 21   # after sphinx.transforms.i18n.Locale (20)

    def apply(self, **kwargs) -> None:
        if (self.config.language or "en") == "en":
            return
        for node in list(self.document.findall(nodes.paragraph)):
            if SEED_GLOSS in node["classes"]:
                node.parent.remove(node)


class ChineseListCommas(SphinxTransform):
    """A list of references only (a glossary cell such as
    ``{ref}`ch-a`, {ref}`ch-b```: no words, so never in a catalog) is
    joined by the Chinese enumeration comma 、 in the Chinese edition."""

    default_priority = 22   # after the translation (20)

    def apply(self, **kwargs) -> None:
        if not (self.config.language or "en").startswith("zh"):
            return
        for par in self.document.findall(nodes.paragraph):
            if has_words(par):
                continue
            kids = par.children
            for i in range(1, len(kids) - 1):
                if (isinstance(kids[i], nodes.Text) and str(kids[i]) == ", "
                        and not isinstance(kids[i - 1], nodes.Text)
                        and not isinstance(kids[i + 1], nodes.Text)):
                    par.replace(kids[i], nodes.Text("、"))


class MathWordsInEdition(SphinxTransform):
    """Words inside math, ``\\text{…}``, in the edition's language.

    Math is shared by both editions and never enters a catalog, so its few
    words are translated by one table, ``locale/<lang>/math_text.yml``,
    applied to every formula of the page (after the paragraphs are
    translated, so inline math of a translated paragraph is included)."""

    default_priority = 30

    def apply(self, **kwargs) -> None:
        lang = self.config.language or "en"
        if lang == "en":
            return
        table = math_words(Path(self.env.srcdir), lang)
        if not table:
            return

        def swap(m: re.Match) -> str:
            return "\\text{" + table.get(m.group(1), m.group(1)) + "}"

        for node in self.document.findall(
                lambda n: isinstance(n, (nodes.math, nodes.math_block))):
            latex = node.astext()
            new = TEXT_IN_MATH.sub(swap, latex)
            if new != latex:
                node.children = []
                node += nodes.Text(new)


TEXT_IN_MATH = re.compile(r"\\text\{([^{}]*)\}")


@functools.lru_cache(maxsize=None)   # read once per build, not once per page
def locale_table(root: Path, lang: str, name: str) -> dict:
    """``locale/<lang>/<name>.yml`` (empty if there is none)."""
    import yaml

    path = root / "locale" / lang / f"{name}.yml"
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def math_words(root: Path, lang: str) -> dict[str, str]:
    """The table of words inside math for ``lang`` (empty if none)."""
    return locale_table(root, lang, "math_text")


class TranslatedTocCaptions(SphinxTransform):
    """Translate the part captions of the table of contents.

    sphinx-external-toc inserts the toctrees from _toc.yml (priority 100)
    after Sphinx has translated the document (priority 20), so their
    captions ("Part I: …") would stay English in the sidebar; the gettext
    builder does extract them, into the root document's catalog."""

    default_priority = 101

    def apply(self, **kwargs) -> None:
        from sphinx import addnodes
        from sphinx.locale import init as init_locale
        from sphinx.util.i18n import docname_to_domain

        if (self.config.language or "en") == "en":
            return
        toctrees = [n for n in self.document.findall(addnodes.toctree)
                    if n.get("caption")]
        if not toctrees:
            return
        domain = docname_to_domain(self.env.docname,
                                   self.config.gettext_compact)
        dirs = [str(Path(self.env.srcdir) / d) for d in self.config.locale_dirs]
        catalog, found = init_locale(dirs, self.config.language, domain)
        if not found:
            return
        for node in toctrees:
            caption = catalog.gettext(node["caption"])
            node["caption"] = caption
            node["rawcaption"] = caption


class TranslatedExercisesInRegistry(SphinxTransform):
    """sphinx-exercise keeps a copy of each exercise, made while parsing, from
    which solutions take their titles; in the Chinese edition that copy
    predates the translation (sphinx.transforms.i18n.Locale, priority 20),
    and "Solution to Exercise N (title)" would keep the English title."""

    default_priority = 25

    def apply(self, **kwargs) -> None:
        registry = getattr(self.env, "sphinx_exercise_registry", None)
        if not registry:
            return
        for node in self.document.findall(nodes.Element):
            if not type(node).__name__.startswith("exercise"):
                continue
            entry = registry.get(node.get("label", ""))
            if entry and entry.get("docname") == self.env.docname:
                entry["node"] = node.deepcopy()


class ExerciseTitlesForGettext(SphinxPostTransform):
    """Let the gettext builder see the exercises' titles.

    sphinx-exercise rebuilds each title as "Exercise N (title)" after the
    document is read, in a node without a source, which the gettext builder
    skips. The translation itself happens earlier, on the title as written
    (PrepareTranslatable gives it a source), so the template must hold that
    text: the part in parentheses.
    """

    default_priority = 30          # after sphinx-exercise's titles (20, 21)
    builders = ("gettext",)

    def run(self, **kwargs) -> None:
        for title in self.document.findall(nodes.title):
            parent = title.parent
            if title.source or parent is None or not type(
                    parent).__name__.startswith(("exercise", "solution")):
                continue
            inner = re.fullmatch(r"[^(]*\((.*)\)", source_text(title), re.S)
            if inner:
                title.source = parent.source or self.document["source"]
                title.line = parent.line or 1
                title.rawsource = inner.group(1)
                title.uid = ""    # the catalog skips nodes without one


class LatexGlueAcrossDocuments(SphinxPostTransform):
    """Paste a glued LaTeX value in a translated paragraph as math.

    Translated paragraphs name their document in glue roles (``doc::key``),
    and myst-nb pastes such references only as plain text, HTML or images: a
    glued ``IPython.display.Latex`` would print as
    ``<IPython.core.display.Latex object>``. Its ``$…$`` becomes a math node
    instead, just before myst-nb's own transform (priority 5).
    """

    default_priority = 4

    def run(self, **kwargs) -> None:
        from myst_nb.ext.glue.crossref import read_glue_cache
        from myst_nb.ext.glue.utils import PendingGlueReference

        folder = self.env.mystnb_config.output_folder
        for node in list(self.document.findall(PendingGlueReference)):
            if node.gtype == "text":
                continue
            out = read_glue_cache(folder, node.refdoc).get(node.key) or {}
            latex = out.get("data", {}).get("text/latex", "").strip()
            m = re.fullmatch(r"\$(?!\$)(.+)(?<!\$)\$", latex, re.S)
            if m:
                node.replace_self(nodes.math(m.group(1), m.group(1)))


def edition_links(app, pagename, templatename, context, doctree) -> None:
    """Give the template the URL of this page in the other edition."""
    lang = app.config.language or "en"
    if lang not in EDITIONS:
        return
    up = "../" * pagename.count("/")
    here = EDITIONS[lang]
    to_root = up + "../" * here.count("/")      # up to the English root
    other = "en" if lang != "en" else "zh_CN"
    context["edition_other_url"] = (
        f"{to_root}{EDITIONS[other]}{pagename}.html")
    context["edition_other_label"] = LABELS[other]
    context["edition_other_lang"] = "en" if other == "en" else "zh-CN"


def add_switch(app, config) -> None:
    """Template folder and header slot for the switch."""
    config.templates_path.append(str(Path(__file__).parent / "templates"))
    opts = dict(config.html_theme_options or {})
    end = opts.get("article_header_end", ["article-header-buttons.html"])
    if isinstance(end, str):
        end = [e.strip() for e in end.split(",") if e.strip()]
    if "edition-switch.html" not in end:
        end = ["edition-switch.html", *end]
    opts["article_header_end"] = end
    config.html_theme_options = opts


def figure_alts(root: Path, lang: str) -> dict[str, dict[str, str]]:
    """``locale/<lang>/figure_alt.yml``: per figure name, the English alt
    text (``en``) and its translation (``zh``)."""
    return locale_table(root, lang, "figure_alt")


def use_chinese_figures() -> None:
    """In the Chinese edition, ``{glue:figure} key`` shows ``key-zh`` when the
    chapter glued one (``backprop.plotting.translated``: the same figure with
    its words in Chinese); otherwise the shared figure."""
    from myst_nb.ext.glue.directives import PasteFigureDirective
    from myst_nb.ext.glue.utils import RetrievalError, retrieve_glue_data

    if getattr(PasteFigureDirective, "_editions", False):
        return
    run = PasteFigureDirective.run

    def run_in_edition(self):
        env = self.state.document.settings.env
        lang = env.config.language or "en"
        if lang != "en" and self.arguments:
            variant = f"{self.arguments[0]}-zh"
            try:
                retrieve_glue_data(self.document, variant)
            except RetrievalError:
                pass
            else:
                self.arguments[0] = variant
            # the alt text in the edition's language, while it translates
            # the current English one
            entry = figure_alts(Path(env.srcdir), lang).get(
                self.options.get("name"))
            if entry and entry.get("en") == self.options.get("alt"):
                self.options["alt"] = entry["zh"]
        return run(self)

    PasteFigureDirective.run = run_in_edition
    PasteFigureDirective._editions = True


def setup(app):
    app.add_transform(PrepareTranslatable)
    app.add_transform(EnglishGlossesOnly)
    app.add_transform(ChineseListCommas)
    app.add_transform(TranslatedExercisesInRegistry)
    app.add_transform(TranslatedTocCaptions)
    app.add_transform(MathWordsInEdition)
    app.add_post_transform(ExerciseTitlesForGettext)
    app.add_post_transform(LatexGlueAcrossDocuments)
    use_chinese_figures()
    app.connect("config-inited", add_switch)
    # before the theme drops header templates that render empty
    app.connect("html-page-context", edition_links, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
