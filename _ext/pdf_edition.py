"""The PDF edition (`make pdf`): what the LaTeX build needs beyond Sphinx's defaults,
and the link to the PDF from every HTML page.

* Solutions. On the web a solution is a collapsed dropdown right after its exercise;
  a printed book keeps the reader from reading the answer with the question. In the
  LaTeX build every ``{solution}`` of a chapter moves, in order, into a last section
  "Solutions" ("习题解答" in the Chinese edition) of that chapter (nothing is
  dropped: the test counts them).
* Long tables. Sphinx sets a table of more than 30 rows as a longtable of plain
  ``l`` columns, which never wrap (the glossary ran 2000 pt off the page), and a
  shorter one as a tabulary, which cannot break across pages. Tables with a lot of
  text become longtables whose column widths follow the columns' text lengths.
* The download link. The HTML pages' download menu (sphinx-book-theme's header
  button) gets a "book .pdf" entry pointing at the edition's own PDF at the root of
  its HTML build, where `make pdf` copies it: ``backprop-executed.pdf`` in
  _build/html, ``backprop-executed-zh.pdf`` in _build/html/zh.
* The Chinese PDF. The edition built with ``language = zh_CN`` is set by xeCJK
  (Sphinx loads it for Chinese) in the preamble's Noto CJK fonts, with Chinese
  quotation marks and dashes full width (tools/editions.py writes its preamble);
  its parts take their Chinese names from the root document's catalog.
"""

from __future__ import annotations

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform

PDF_NAME = "backprop-executed.pdf"
#: each edition's PDF, by language (the other languages: the English one)
PDF_NAMES = {"en": PDF_NAME, "zh_CN": "backprop-executed-zh.pdf"}
SOLUTIONS_TITLE = "Solutions"
#: the title of a chapter's last section in the other editions
SOLUTIONS_TITLES = {"zh_CN": "习题解答"}


def _solution_nodes():
    try:
        from sphinx_exercise.nodes import solution_node
    except ImportError:  # the book without exercises
        return ()
    return (solution_node,)


class SolutionsAfterChapter(SphinxPostTransform):
    """Move each chapter's solutions into a "Solutions" section closing the chapter.

    Acts on the LaTeX builder's assembled tree, where every document of the toc sits
    in an ``addnodes.start_of_file`` node whose first section is the chapter.
    """

    builders = ("latex",)
    default_priority = 900  # after sphinx-exercise and sphinx-jupyterbook-latex

    def run(self, **kwargs) -> None:
        kinds = _solution_nodes()
        if not kinds:
            return
        found: dict[int, tuple] = {}

        # A walk of the children lists, not of ``.parent``: sphinx-jupyterbook-latex
        # re-parents nodes by sharing children lists, so ``.parent`` can be stale.
        def walk(node, current):
            for child in list(node.children):
                if isinstance(child, addnodes.start_of_file):
                    walk(child, child)
                elif isinstance(child, kinds):
                    if current is not None:
                        found.setdefault(id(current), (current, []))[1].append((node, child))
                elif isinstance(child, nodes.Element):
                    walk(child, current)

        walk(self.document, None)
        for chapter, solutions in found.values():
            sections = [c for c in chapter.children if isinstance(c, nodes.section)]
            if not sections:
                continue
            section_id = "pdf-solutions-" + chapter["docname"].replace("/", "-")
            section = nodes.section("", ids=[section_id], names=[section_id])
            language = self.config.language or "en"
            section += nodes.title("", SOLUTIONS_TITLES.get(language, SOLUTIONS_TITLE))
            for parent, solution in solutions:
                parent.children.remove(solution)
                section += solution
            sections[-1] += section


class TranslatedPartTitles(SphinxPostTransform):
    """The parts of a translated PDF under their translated names.

    sphinx-jupyterbook-latex makes each captioned toctree of the root document a
    part (``\\part{…}``), from the caption it stored while the document was read,
    before the captions were translated: in the Chinese edition they would stay
    English. They are looked up in the root document's catalog, where the HTML
    edition finds them too, just before the parts are made (priority 700)."""

    builders = ("latex",)
    default_priority = 690

    def run(self, **kwargs) -> None:
        language = self.config.language or "en"
        if language == "en" or self.env.docname != self.config.root_doc:
            return
        from os import path

        from sphinx.locale import init as init_locale
        from sphinx.util.i18n import docname_to_domain

        dirs = [path.join(self.env.srcdir, d) for d in self.config.locale_dirs]
        domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
        catalog, _ = init_locale(dirs, language, domain)
        for node in self.document.findall(nodes.compound):
            if "toctree-wrapper" in node["classes"] and node.get("caption"):
                node["caption"] = catalog.gettext(node["caption"])
                for toctree in node.findall(addnodes.toctree):
                    if toctree.get("caption"):
                        toctree["caption"] = catalog.gettext(toctree["caption"])


class WrapLongTables(SphinxPostTransform):
    """Give long or text-heavy tables wrapping columns that can break across pages."""

    builders = ("latex",)
    default_priority = 900
    #: a table with more rows or more characters than this is set as a longtable
    MAX_ROWS, MAX_CHARS = 30, 2000

    def run(self, **kwargs) -> None:
        for table in self.document.findall(nodes.table):
            groups = list(table.findall(nodes.tgroup))
            if len(groups) != 1 or "colwidths-given" in table["classes"]:
                continue
            colspecs = [c for c in groups[0].children if isinstance(c, nodes.colspec)]
            rows = list(groups[0].findall(nodes.row))
            if not colspecs or (len(rows) <= self.MAX_ROWS
                                and len(table.astext()) <= self.MAX_CHARS):
                continue
            if any(e.get("morecols") or e.get("morerows") for e in table.findall(nodes.entry)):
                continue  # spans: leave the table to Sphinx
            lengths = [[] for _ in colspecs]
            words = [1] * len(colspecs)   # the longest unbreakable word of each column
            for row in rows:
                for i, entry in enumerate(row.children[:len(colspecs)]):
                    text = entry.astext()
                    lengths[i].append(len(text))
                    words[i] = max([words[i]] + [min(len(w), 24) for w in text.split()])
            # a column's share follows its mean text length, and holds its longest word
            weights = [max(sum(v) / len(v) if v else 1, 3 * w)
                       for v, w in zip(lengths, words)]
            widths = [max(1, round(100 * x / sum(weights))) for x in weights]
            for colspec, width in zip(colspecs, widths):
                colspec["colwidth"] = width
            table["classes"] += ["colwidths-given", "longtable"]


def pdf_name(language: str | None) -> str:
    """The file name of the PDF of the edition in ``language``."""
    return PDF_NAMES.get(language or "en", PDF_NAME)


def add_pdf_download(app, pagename, templatename, context, doctree):
    """Append the edition's PDF to the page's download menu (after
    sphinx-book-theme built it at priority 501). The Chinese edition is built
    into a subfolder of the English HTML (_build/html/zh) and its PDF is copied
    there, so every edition links the PDF at its own root."""
    pathto = context.get("pathto")
    language = app.config.language or "en"
    chinese = language.startswith("zh")
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons" and pathto is not None:
            button["buttons"].append({
                "type": "link",
                "url": pathto(pdf_name(language), 1),
                "text": "本书 .pdf" if chinese else "book .pdf",
                "tooltip": "下载全书 PDF" if chinese
                           else "Download the whole book as a PDF",
                "icon": "fas fa-book",
                "label": "download-book-pdf-button",
            })


def setup(app):
    app.add_post_transform(SolutionsAfterChapter)
    app.add_post_transform(WrapLongTables)
    app.add_post_transform(TranslatedPartTitles)
    app.connect("html-page-context", add_pdf_download, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
