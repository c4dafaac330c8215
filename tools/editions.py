"""Build the book's English and Chinese editions from one source.

Usage (the Makefile calls these; run from the repository root):

  python tools/editions.py config     write the configurations of the builds
                                      into _build/config/ (en, zh, gettext)
  python tools/editions.py qualify    rewrite the glue roles of every Chinese
                                      translation to name their document
  python tools/editions.py status     per document: translated, fuzzy and
                                      untranslated entries of the catalogs
  python tools/editions.py export book/NN_slug
                                      the catalog's entries as numbered JSON
  python tools/editions.py fill book/NN_slug a.json [b.json ...]
                                      set translations {"n": "msgstr"} and
                                      report any that lose math, code,
                                      references or glued values

Both editions execute each chapter once. The English build runs in myst-nb's
``cache`` mode on an empty cache (``make build`` deletes it first), so it
executes every notebook from scratch, as ``execute_notebooks: force`` would,
and stores the executed notebooks in ``_build/.jupyter_cache``. The Chinese
build reads the same sources with ``language = zh_CN``; their code cells are
unchanged, so every notebook is found in the cache and nothing runs twice.

Glued values: a translated paragraph is parsed on its own, outside the
notebook, so ``{glue:text}`key``` finds no glue data there. It must name its
document, ``{glue:text}`NN_slug.md::key:s``` (myst-nb reads the trailing
format spec only when one is given, so ``:s`` must be there). ``qualify``
writes that form from the short one, so translators may copy the English
roles as they are.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "_config.yml"
OUT = ROOT / "_build" / "config"
CACHE = ROOT / "_build" / ".jupyter_cache"
LOCALE = ROOT / "locale"
LANG = "zh_CN"
CATALOGS = LOCALE / LANG / "LC_MESSAGES"


def configs() -> dict[str, dict]:
    """The three build configurations, derived from _config.yml."""
    base = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    out = {}
    for name in ("en", "zh", "gettext"):
        c = yaml.safe_load(yaml.safe_dump(base))        # a deep copy
        # jupyter-book resolves extension folders against the config's folder
        local = c["sphinx"].get("local_extensions") or {}
        for ext, folder in local.items():
            local[ext] = str((ROOT / folder).resolve())
        ex = c.setdefault("execute", {})
        # The templates come from executed notebooks too: a glued figure's
        # caption and alt text exist only once its output does. After
        # `make build` every notebook is in the cache, so nothing runs again.
        ex["execute_notebooks"] = "cache"
        ex["cache"] = str(CACHE)
        if name == "zh":
            c["sphinx"]["config"]["language"] = LANG
            c["sphinx"]["config"]["math_eqref_format"] = "式 {number}"
            # myst-nb's fold buttons ("Show code cell source")
            c["sphinx"]["config"]["nb_code_prompt_show"] = "显示代码单元格"
            c["sphinx"]["config"]["nb_code_prompt_hide"] = "隐藏代码单元格"
            # its own PDF (make pdf): _build/zh/_build/latex/backprop-executed-zh.tex
            latex = c.setdefault("latex", {})
            documents = latex.setdefault("latex_documents", {})
            documents["targetname"] = "backprop-executed-zh.tex"
            documents["title"] = translated_title(base.get("title", ""))
            elements = c["sphinx"]["config"].setdefault("latex_elements", {})
            elements["preamble"] = zh_preamble(elements.get("preamble", ""),
                                               documents["title"])
        out[name] = c
    return out


def translated_title(title: str, doc: str = "book/intro") -> str:
    """The book's title in the Chinese catalog of its root document (the
    title page of the Chinese PDF); the English title if it has none."""
    po = CATALOGS / f"{doc}.po"
    if title and po.is_file():
        for message in read_catalog(po):
            if message.id == title and message.string and not message.fuzzy:
                return message.string
    return title


def split_title(title: str) -> tuple[str, str]:
    """("Backprop, executed", "可执行的反向传播") from the Chinese title
    "Backprop, executed（可执行的反向传播）"; (title, "") otherwise."""
    m = re.fullmatch(r"(.+?)\s*（(.+)）", title)
    return (m.group(1), m.group(2)) if m else (title, "")


def latex_escape(text: str) -> str:
    """``text`` for LaTeX, escaped as Sphinx escapes a title for xelatex."""
    from sphinx.util import texescape

    texescape.init()            # the builder's tables (idempotent)
    return texescape.escape(text, "xelatex")


def zh_preamble(preamble: str, title: str = "") -> str:
    """The LaTeX preamble of the Chinese PDF from the English one. Sphinx
    loads xeCJK itself for zh_CN; the English edition's Noto CJK fonts stay,
    but not its rule that sets quotes, dashes and the ellipsis as Latin
    characters: in Chinese text they are full width. Babel runs in English
    for Chinese (Sphinx has no Chinese babel), and sphinx-jupyterbook-latex
    names the table of contents "Contents": the names in Chinese, set at
    the beginning of the document, after babel's. A chapter's head says
    第 N 章, and the title page sets a Chinese subtitle ("X（Y）") on a line
    of its own (it broke before its last character)."""
    keep = [line for line in preamble.splitlines()
            if not line.lstrip().startswith(("\\usepackage{xeCJK}",
                                             "\\xeCJKDeclareCharClass"))
            and "quotes, dashes and the ellipsis stay Latin" not in line]
    keep += [
        "% the Chinese edition: Chinese names (tools/editions.py)",
        "\\AtBeginDocument{\\renewcommand{\\contentsname}{目录}%",
        "  \\renewcommand{\\chaptername}{}\\renewcommand{\\bibname}{参考文献}%",
        "  \\renewcommand{\\indexname}{索引}}",
        "% a chapter's head says 第 N 章 (fncychap's Sonny style, which Sphinx",
        "% loads, prints the chapter name, then the number)",
        "\\makeatletter\\@ifpackageloaded{fncychap}{\\renewcommand{\\DOCH}{%",
        "  \\raggedleft\\CNV\\FmN{第}\\,\\CNoV\\thechapter\\,\\CNV\\FmN{章}%",
        "  \\par\\nobreak\\vskip 40\\p@}}{}\\makeatother",
    ]
    main, sub = split_title(title)
    if sub:
        keep += [
            "% the title page (only: the running heads keep the one-line"
            " title) sets the Chinese subtitle on a line of its own",
            "\\makeatletter\\pretocmd{\\sphinxmaketitle}{\\let\\bpx@title\\@title"
            "\\def\\@title{" + latex_escape(main) + "\\\\[0.3em]{\\LARGE "
            + latex_escape(sub) + "}}}{}{}%",
            "\\apptocmd{\\sphinxmaketitle}{\\let\\@title\\bpx@title}{}{}\\makeatother",
        ]
    return "\n".join(keep) + "\n"


def write_configs() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, c in configs().items():
        path = OUT / f"{name}.yml"
        path.write_text("# written by tools/editions.py from _config.yml\n"
                        + yaml.safe_dump(c, allow_unicode=True,
                                         sort_keys=False), encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")


# ---------------------------------------------------------------- glue roles
# {glue:text}`key`, {glue:text}`key:fmt`, {glue}`key`; already qualified
# forms (with ::) are left alone.
GLUE_ROLE = re.compile(r"\{(glue(?::text|:any)?)\}`([^`]+)`")


def qualify_roles(text: str, doc: str) -> str:
    """``text`` with every glue role naming ``doc`` (e.g. 01_x.md)."""
    def fix(m: re.Match) -> str:
        role, body = m.group(1), m.group(2)
        if "::" in body:
            return m.group(0)
        if role == "glue:text":
            key, _, fmt = body.partition(":")
            return f"{{{role}}}`{doc}::{key}:{fmt or 's'}`"
        return f"{{{role}}}`{doc}::{body}`"
    return GLUE_ROLE.sub(fix, text)


def glue_keys(text: str) -> list[str]:
    """The glue keys a text pastes, qualified or not, in order."""
    keys = []
    for m in GLUE_ROLE.finditer(text):
        body = m.group(2).split("::", 1)[-1]
        if m.group(1) == "glue:text":
            body = body.rsplit(":", 1)[0] if body.count(":") else body
        keys.append(body)
    return keys


# ------------------------------------------------- what a translation copies
MATH = re.compile(r"(?<![\\$])\$(?!\$)((?:\\.|[^$\\])+)\$")
CODE = re.compile(r"(?<!`)``?(?!`)([^`]+)``?(?!`)")
ROLE = re.compile(r"\{(?P<role>[a-z:-]+)\}`(?P<body>[^`]+)`")
LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")
TITLED = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$", re.S)


def non_prose(text: str) -> Counter:
    """What a translation must keep exactly: inline math, code, the targets
    of roles (a role's own title, ``{ref}`title <label>```, may be
    translated; glue roles are compared by key, see glue_keys) and the
    targets of links."""
    roles = []
    for m in ROLE.finditer(text):
        if m.group("role").startswith("glue"):
            continue
        titled = TITLED.match(m.group("body"))
        target = titled.group("target") if titled else m.group("body")
        roles.append(("role", m.group("role"), target.strip()))
    rest = ROLE.sub(" ", text)
    items = [("math", m.group(1).strip()) for m in MATH.finditer(rest)]
    items += [("code", m.group(1).strip())
              for m in CODE.finditer(MATH.sub(" ", rest))]
    items += [("link", m.group("target")) for m in LINK.finditer(text)]
    return Counter(items + roles)


CJK_PUNCT = "\u3000-\u303f\uff00-\uffef"   # 。，：；（）“” and the like


def loose_stars(text: str) -> int:
    """How many ``*`` of ``text`` Markdown would print instead of reading as
    emphasis. CommonMark does not close ``**粗体。**`` when a letter follows:
    a closing run after punctuation must be followed by space or
    punctuation, which Chinese text rarely has."""
    from markdown_it import MarkdownIt

    plain = ROLE.sub("R", MATH.sub("M", text))
    tokens = MarkdownIt("commonmark").parseInline(plain)
    return sum(child.content.count("*") for tok in tokens
               for child in (tok.children or []) if child.type == "text")


def fix_emphasis(text: str) -> str:
    """Move Chinese punctuation out of the end of a bold or italic run when
    that is what keeps the run from closing (``**是。**正文`` -> ``**是**。正文``)."""
    if not loose_stars(text):
        return text
    fixed = re.sub(rf"([{CJK_PUNCT}]+)(\*\*|\*)(?=[^\s*])", r"\2\1", text)
    return fixed if loose_stars(fixed) < loose_stars(text) else text


def problems(msgid: str, msgstr: str, doc: str) -> list[str]:
    """Why ``msgstr`` is not a faithful translation of ``msgid`` (empty: it is)."""
    out = []
    want, got = non_prose(msgid), non_prose(msgstr)
    if want != got:
        out.append(f"lost {dict(want - got)}, added {dict(got - want)}")
    if sorted(glue_keys(msgid)) != sorted(glue_keys(msgstr)):
        out.append(f"glue {glue_keys(msgid)} became {glue_keys(msgstr)}")
    if loose_stars(msgstr) > loose_stars(msgid):
        out.append("emphasis that does not close: Markdown prints its * "
                   "(put Chinese punctuation outside **…**)")
    if qualify_roles(msgstr, doc) != msgstr:
        out.append("a glue role does not name its document "
                   "(`python tools/editions.py qualify` writes it)")
    return out


def read_catalog(path: Path):
    from babel.messages.pofile import read_po
    with path.open("rb") as f:
        return read_po(f, locale=LANG)


def write_catalog(path: Path, catalog) -> None:
    from babel.messages.pofile import write_po
    with path.open("wb") as f:
        write_po(f, catalog, width=76, omit_header=False,
                 include_previous=True)


def qualify() -> None:
    for po in sorted(CATALOGS.rglob("*.po")):
        doc = po.stem + ".md"
        catalog = read_catalog(po)
        changed = 0
        for msg in catalog:
            if msg.id and msg.string:
                new = fix_emphasis(qualify_roles(msg.string, doc))
                if new != msg.string:
                    msg.string, changed = new, changed + 1
        if changed:
            write_catalog(po, catalog)
            print(f"{po.relative_to(ROOT)}: {changed} entries qualified")


def status() -> dict[str, dict[str, int]]:
    """Per catalog: total, translated, fuzzy and untranslated entries."""
    result = {}
    for po in sorted(CATALOGS.rglob("*.po")):
        catalog = read_catalog(po)
        msgs = [m for m in catalog if m.id]
        result[str(po.relative_to(CATALOGS).with_suffix(""))] = {
            "total": len(msgs),
            "translated": sum(bool(m.string) and not m.fuzzy for m in msgs),
            "fuzzy": sum(m.fuzzy for m in msgs),
            "untranslated": sum(not m.string for m in msgs),
        }
    return result


def export(doc: str) -> None:
    """Print the entries of one catalog as numbered JSON, for translating."""
    catalog = read_catalog(CATALOGS / f"{doc}.po")
    rows = [{"n": n, "id": m.id, "str": m.string, "fuzzy": m.fuzzy}
            for n, m in enumerate(m for m in catalog if m.id)]
    print(json.dumps(rows, ensure_ascii=False, indent=1))


def fill(doc: str, files: list[str]) -> int:
    """Set translations from JSON files ``{"n": "msgstr", ...}`` (n as in
    ``export``); qualify their glue roles, clear their fuzzy flags, and
    report entries that do not keep the math, code and references. A value
    may be ``{"str": msgstr, "comment": note}``: the note becomes the
    entry's translator comment (``seed-quote`` exempts an English rendering
    of a seed quotation, which the Chinese edition replaces by the original,
    from the glossary-term check)."""
    path = CATALOGS / f"{doc}.po"
    catalog = read_catalog(path)
    msgs = [m for m in catalog if m.id]
    name = Path(doc).name + ".md"
    bad = 0
    for file in files:
        for n, text in json.loads(Path(file).read_text("utf-8")).items():
            m = msgs[int(n)]
            if isinstance(text, dict):      # {"str": ..., "comment": ...}
                m.user_comments = [text["comment"]]
                text = text["str"]
            text = fix_emphasis(qualify_roles(text, name))
            for p in problems(m.id, text, name):
                print(f"entry {n}: {p}\n  {m.id[:100]!r}")
                bad += 1
            m.string = text
            m.flags.discard("fuzzy")
    write_catalog(path, catalog)
    s = status()[doc]
    print(f"{doc}: {s['translated']}/{s['total']} translated, "
          f"{s['fuzzy']} fuzzy, {bad} problems")
    return 1 if bad else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["config"]:
        write_configs()
    elif argv[:1] == ["qualify"]:
        qualify()
    elif argv[:1] == ["export"] and len(argv) == 2:
        export(argv[1])
    elif argv[:1] == ["fill"] and len(argv) >= 3:
        return fill(argv[1], argv[2:])
    elif argv[:1] == ["status"]:
        for doc, s in status().items():
            print(f"{doc:32s} {s['translated']:4d}/{s['total']:<4d} "
                  f"fuzzy {s['fuzzy']:3d} untranslated {s['untranslated']:3d}")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
