"""Offer every chapter as a Jupyter notebook (.ipynb) from its page.

Chapters are MyST Markdown notebooks. When the HTML build finishes, this extension
converts each of them with jupytext into `_sources/<docname>.ipynb` next to the `.md`
source the theme already publishes, and tells sphinx-book-theme (through the
`ipynb_source` page context it reads) to add a ".ipynb" entry to the page's download
menu. The notebooks carry no outputs: a reader runs them with `backprop` installed.
The test command runs nbval on exactly these files.
"""

from __future__ import annotations

from pathlib import Path


def _is_notebook(app, docname: str) -> Path | None:
    for suffix in (".md",):
        path = Path(app.srcdir) / f"{docname}{suffix}"
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            if text.startswith("---") and "jupytext:" in text.split("---")[1] and "```{code-cell}" in text:
                return path
    return None


def add_ipynb_source(app, pagename, templatename, context, doctree):
    if _is_notebook(app, pagename):
        context["ipynb_source"] = f"{pagename}.ipynb"


def write_notebooks(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    import jupytext

    for docname in sorted(app.env.found_docs):
        source = _is_notebook(app, docname)
        if source is None:
            continue
        target = Path(app.outdir) / "_sources" / f"{docname}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        notebook = jupytext.read(source)
        notebook.metadata.pop("jupytext", None)  # a plain notebook, not a paired one
        jupytext.write(notebook, target, fmt="ipynb")


def dedupe_scripts(app, pagename, templatename, context, doctree):
    """Drop repeated <script> entries.

    sphinx-thebe registers its inline configuration (``const THEBE_JS_URL = ...``) once
    per reading pass, and Jupyter Book 1 reads twice, so pages declared the constant
    twice and the browser raised "Identifier 'THEBE_JS_URL' has already been declared".
    """
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # an inline script is registered with filename None or "" (same script)
        key = (getattr(script, "filename", str(script)) or "",
               tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"][:] = unique  # in place: sphinx.ext.mathjax appends to this list later


def setup(app):
    app.connect("html-page-context", dedupe_scripts, priority=100)  # emit_firstresult: run early
    # before sphinx-book-theme builds its header buttons (priority 501)
    app.connect("html-page-context", add_ipynb_source, priority=400)
    app.connect("build-finished", write_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
