"""The rendered book, tested as a reader uses it: every page of _toc.yml opened in
headless Chromium (offline), and every chapter downloadable as a notebook.

Needs the built book (`make build`) and Debian's Chromium at /usr/bin/chromium; the
Python side is Playwright, which drives that browser (it never downloads one).
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

import jupytext
import nbformat
import pytest

from bookcheck import ROOT, notebook_files, toc_files

HTML = ROOT / "_build" / "html"
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "_build" / "browser"
#: Chromium flags for a closed network: no background traffic, no GPU, as root
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic"]
EN_PAGES = [p.relative_to(ROOT).with_suffix(".html").as_posix() for p in toc_files()]
#: the Chinese edition: the same pages under zh/ (tools/editions.py)
ZH = "zh/"
PAGES = EN_PAGES + [ZH + p for p in EN_PAGES]

if not (HTML / "index.html").is_file():
    pytest.fail("the book is not built: run `make build` (or `make test`) first", pytrace=False)


# ----------------------------------------------------------------------------- notebooks
@pytest.mark.parametrize("source", notebook_files(), ids=lambda p: p.name)
def test_chapter_downloads_as_the_notebook_nbval_runs(source):
    docname = source.relative_to(ROOT).with_suffix("").as_posix()
    downloaded = HTML / "_sources" / f"{docname}.ipynb"
    assert downloaded.is_file(), f"no .ipynb download for {docname}"
    page = (HTML / f"{docname}.html").read_text()
    assert f'_sources/{docname}.ipynb"' in page, "the page's download menu does not offer the .ipynb"
    nb = nbformat.read(downloaded, as_version=4)
    nbformat.validate(nb)
    expected = jupytext.read(source)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code == [c.source for c in expected.cells if c.cell_type == "code"]
    assert nb.metadata["kernelspec"]["name"] == "python3"
    # nbval executes exactly these files (Makefile: notebooks), outside the repository
    tested = ROOT / ".nbtest" / "book" / downloaded.name
    assert tested.is_file() and tested.read_bytes() == downloaded.read_bytes()


# ------------------------------------------------------------------------------- browser
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium package (apt-get install chromium)",
                    pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM,
            headless=True, args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900})
        yield context
        context.close()


@pytest.fixture(scope="module")
def report():
    data = {"pages": {}}
    yield data
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "report.json").write_text(json.dumps(data, indent=1, sort_keys=True))


WAIT_FOR_MATH = """async () => {
  if (!document.querySelector('.math')) return 'no math';
  for (let i = 0; i < 200 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
    await new Promise(r => setTimeout(r, 50));
  if (!(window.MathJax && MathJax.startup)) return 'mathjax missing';
  await MathJax.startup.promise;
  return 'typeset';
}"""

WAIT_FOR_IMAGES = """async () => {
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  return imgs.map(i => ({src: i.getAttribute('src'), w: i.naturalWidth}));
}"""

RAW_TEX = """() => {
  const walker = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
  const bad = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest('pre, code, script, style, mjx-container, .highlight, .cell_output')) continue;
    const t = n.textContent;
    if (t.includes('$$') || t.includes('\\\\[') || t.includes('\\\\(') || t.includes('\\\\begin{')) bad.push(t.trim().slice(0, 80));
  }
  return bad;
}"""


def _target_file(path: str) -> Path:
    file = HTML / unquote(path).lstrip("/")
    return file / "index.html" if file.is_dir() else file


@functools.lru_cache(maxsize=None)
def _ids(file: Path) -> frozenset:
    return frozenset(re.findall(r'\bid="([^"]+)"', file.read_text(errors="replace")))


@pytest.mark.browser
@pytest.mark.parametrize("page_path", PAGES)
def test_page_renders_offline(site, browser, report, page_path):
    page = browser.new_page()
    errors = []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.goto(f"{site}/{page_path}", wait_until="load")
    state = page.evaluate(WAIT_FOR_MATH)
    assert state in ("no math", "typeset"), f"{page_path}: {state}"
    n_math_sources = page.locator(".math").count()
    n_rendered = page.locator("mjx-container").count()
    n_errors = page.locator("mjx-merror").count()
    assert n_errors == 0, f"{page_path}: {n_errors} MathJax error nodes"
    if n_math_sources:
        assert n_rendered >= 1, f"{page_path}: has math but MathJax rendered none"
    raw = page.evaluate(RAW_TEX)
    assert not raw, f"{page_path}: raw TeX left in the text: {raw[:5]}"
    images = page.evaluate(WAIT_FOR_IMAGES)
    broken = [i["src"] for i in images if i["w"] == 0]
    assert not broken, f"{page_path}: images that did not decode: {broken}"
    # every internal link resolves to a built page (and its anchor exists)
    links = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
    dead = []
    for link in links:
        url = urlparse(link)
        if not link.startswith(site) or url.path.endswith("/_sources/") or "/_sources/" in url.path:
            continue
        target = _target_file(url.path)
        if not target.is_file():
            dead.append(link)
        elif url.fragment and target.suffix == ".html" and unquote(url.fragment) not in _ids(target):
            dead.append(link)
    assert not dead, f"{page_path}: links to nothing: {dead[:10]}"
    assert not errors, f"{page_path}: {errors}"
    report["pages"][page_path] = {"math_rendered": n_rendered, "images": len(images), "links": len(links)}
    if page_path.endswith("04_delta_rule.html") or (page_path.endswith("01_activations.html")
                                                    and "book/04_delta_rule.html" not in PAGES):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = Path(page_path).with_suffix(".png").name
        if page_path.startswith(ZH):
            name = "zh_" + name
        page.screenshot(path=str(ARTIFACTS / name))
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("page_path", EN_PAGES)
def test_language_links_join_the_same_page_both_ways(site, browser, page_path):
    """The header's language link leads from each page to the same page in the
    other edition and back; the Chinese page is in Chinese and says so."""
    page = browser.new_page()
    page.goto(f"{site}/{page_path}", wait_until="load")
    link = page.locator("a.edition-switch")
    assert link.count() == 1, f"{page_path}: no language link in the header"
    assert link.inner_text().strip() == "中文"
    link.click()
    page.wait_for_load_state("load")
    assert page.url == f"{site}/{ZH}{page_path}", f"{page_path}: led to {page.url}"
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    title = page.locator("main h1").first.inner_text()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in title), (
        f"{ZH}{page_path}: the title {title!r} is not in Chinese")
    back = page.locator("a.edition-switch")
    assert back.inner_text().strip() == "English"
    back.click()
    page.wait_for_load_state("load")
    assert page.url == f"{site}/{page_path}"
    page.close()


GLUE_TEXT = re.compile(r"\{glue:text\}`(?:[^`:]+::)?(?P<key>[^`:]+)(?::[^`]*)?`")


@pytest.mark.parametrize("source", notebook_files(), ids=lambda p: p.name)
def test_every_glued_number_appears_on_the_chinese_page(source):
    """A translated paragraph keeps its glued numbers (they name their document;
    a bare key would paste nothing there)."""
    docname = source.relative_to(ROOT).with_suffix("").as_posix()
    # myst-nb keeps each document's glued outputs beside its executed notebook
    glued = ROOT / "_build" / "jupyter_execute" / f"{docname}.glue.json"
    data = json.loads(glued.read_text(encoding="utf-8")) if glued.is_file() else {}
    values = {key: out["data"]["text/plain"].strip("'\"")
              for key, out in data.items() if "text/plain" in out.get("data", {})}
    used = set(GLUE_TEXT.findall(source.read_text(encoding="utf-8")))
    assert used <= set(values), f"keys without a value: {sorted(used - set(values))}"
    import html as _html
    page = (HTML / ZH / f"{docname}.html").read_text(encoding="utf-8")
    prose = re.sub(r"<(code|pre)\b.*?</\1>", " ", page, flags=re.S)  # roles shown as code
    text = _html.unescape(re.sub(r"<[^>]+>", "", prose))
    assert not re.search(r"\{glue[:a-z]*\}`", text), "a glue role was not pasted"
    text = _html.unescape(re.sub(r"<[^>]+>", "", page))
    missing = sorted(k for k in used if values[k] not in text)
    assert not missing, (f"{ZH}{docname}: glued values missing: "
                         f"{[(k, values[k]) for k in missing[:8]]}")


def test_chinese_sidebar_shows_translated_part_captions():
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    captions = [part["caption"] for part in toc.get("parts", [])]
    assert captions
    for page in (HTML / ZH / EN_PAGES[1], HTML / EN_PAGES[1]):
        html = page.read_text(encoding="utf-8")
        english = [c for c in captions if c in html]
        if page.is_relative_to(HTML / ZH):
            assert not english, f"{page.name}: English part captions {english}"
        else:
            assert english == captions


@pytest.mark.parametrize("doc", ["13_misconceptions", "14_conclusion"])
def test_seed_quotes_carry_english_renderings_only_in_english(doc):
    """Chapters 13 and 14 quote the seed in Chinese and, in the English
    edition, add an English rendering ({.seed-gloss}); the Chinese edition
    shows the quotations alone, with no rendering and no placeholder."""
    source = (ROOT / "book" / f"{doc}.md").read_text(encoding="utf-8")
    glosses = re.findall(r"\{\.seed-gloss\}\n", source)
    assert len(glosses) >= (20 if doc.startswith("13") else 1)
    pages = {ed: (HTML / ed / "book" / f"{doc}.html").read_text(
        encoding="utf-8") for ed in ("", ZH)}
    assert pages[""].count('class="seed-gloss"') == len(glosses)
    assert "seed-gloss" not in pages[ZH]
    assert not re.search("原文如上|英译", pages[ZH])
    assert "回传误差" in pages[ZH]
    if doc.startswith("13"):
        # the table's first column is headed "#", not an empty heading, and
        # row 7 quotes "3. …" as text, not as a numbered list
        for page in pages.values():
            assert ">#</p>" in page and "3. 对于每个隐藏层节点" in page


def test_chinese_lists_of_references_use_the_enumeration_comma():
    """The glossary's "Defined in" cells list chapters; the Chinese edition
    joins them with 、 (_ext/editions.py ChineseListCommas)."""
    between = re.compile(r"</a>(, |、)<a ")
    en = between.findall((HTML / "book" / "glossary.html").read_text("utf-8"))
    zh = between.findall(
        (HTML / ZH / "book" / "glossary.html").read_text("utf-8"))
    assert len(en) >= 10 and set(en) == {", "}
    assert len(zh) == len(en) and set(zh) == {"、"}


GLUE_FIGURE = re.compile(r"```\{glue:figure\}[^\n]*\n((?::[a-z]+:[^\n]*\n)+)")


def figure_alts(source: Path) -> dict[str, str]:
    """{figure name: its :alt: text} of a chapter's {glue:figure}s."""
    out = {}
    for m in GLUE_FIGURE.finditer(source.read_text(encoding="utf-8")):
        opts = dict(re.findall(r"^:([a-z]+): ?(.*)$", m.group(1), re.M))
        if "alt" in opts:
            out[opts["name"]] = opts["alt"]
    return out


@pytest.mark.parametrize("source", notebook_files(), ids=lambda p: p.name)
def test_chinese_pages_describe_figures_in_chinese(source):
    """Every figure's alt text has a Chinese translation of its current
    English (locale/zh_CN/figure_alt.yml), and the Chinese page uses it."""
    import html as _html

    import yaml

    table = yaml.safe_load((ROOT / "locale" / "zh_CN" / "figure_alt.yml")
                           .read_text(encoding="utf-8"))
    docname = source.relative_to(ROOT).with_suffix("").as_posix()
    pages = {ed: (HTML / ed / f"{docname}.html").read_text(encoding="utf-8")
             for ed in ("", ZH)}
    for name, alt in figure_alts(source).items():
        entry = table.get(name)
        assert entry, f"{name}: no Chinese alt text in figure_alt.yml"
        assert entry["en"] == alt, (
            f"{name}: the English alt text changed; translate it again")
        assert len(re.findall(r"[\u4e00-\u9fff]", entry["zh"])) > 10
        for ed, want in (("", alt), (ZH, entry["zh"])):
            m = re.search(rf'id="{re.escape(name)}".*?<img[^>]*alt="([^"]*)"',
                          pages[ed], re.S)
            assert m, f"{ed}{docname}: no image for {name}"
            assert _html.unescape(m.group(1)) == want, f"{ed}{docname}: {name}"


def test_every_translated_alt_text_belongs_to_a_figure():
    import yaml

    table = yaml.safe_load((ROOT / "locale" / "zh_CN" / "figure_alt.yml")
                           .read_text(encoding="utf-8"))
    names = {n for s in notebook_files() for n in figure_alts(s)}
    assert set(table) == names, sorted(set(table) ^ names)


IMG_SRC = re.compile(r'<img[^>]+src="([^"]+)"')


@pytest.mark.parametrize("source", notebook_files(), ids=lambda p: p.name)
def test_chinese_pages_show_the_chinese_figures(source):
    """Where a chapter glued fig-x-zh (the figure with its words in Chinese), the
    Chinese page shows it in place of fig-x; every other image is shared."""
    docname = source.relative_to(ROOT).with_suffix("").as_posix()
    glued = ROOT / "_build" / "jupyter_execute" / f"{docname}.glue.json"
    keys = json.loads(glued.read_text(encoding="utf-8")) if glued.is_file() else {}
    variants = [k for k in keys if k.endswith("-zh")]
    assert all(k[:-3] in keys for k in variants), "a -zh figure without its original"
    en = {Path(s).name for s in IMG_SRC.findall((HTML / f"{docname}.html").read_text())}
    zh = {Path(s).name for s in IMG_SRC.findall(
        (HTML / ZH / f"{docname}.html").read_text(encoding="utf-8"))}
    assert len(zh - en) == len(variants), (
        f"{docname}: {len(variants)} Chinese figures glued, {len(zh - en)} shown")
    assert len(en - zh) == len(variants)


#: every table of the article, measured after MathJax has typeset: its own width, the
#: width of the box the theme wraps it in (.pst-scrollable-table-container), whether
#: that box scrolls sideways, and how far the box reaches past the article column
TABLE_WIDTHS = """() => [...document.querySelectorAll('.bd-article table')].map((t, i) => {
  const box = t.closest('.pst-scrollable-table-container') || t.parentElement;
  const article = t.closest('.bd-article');
  const overflowX = getComputedStyle(box).overflowX;
  return {index: i, head: (t.rows[0] ? t.rows[0].textContent : '').trim().slice(0, 40),
          table: Math.ceil(t.getBoundingClientRect().width), box: box.clientWidth,
          scrolls: ['auto', 'scroll'].includes(overflowX),
          past_article: Math.ceil(box.getBoundingClientRect().right
                                  - article.getBoundingClientRect().right)};
})"""


@pytest.mark.browser
@pytest.mark.parametrize("page_path", PAGES)
def test_tables_fit_the_article_column(site, browser, page_path):
    """At the 1280 px of the browser fixture no table runs off the right edge.

    A table wider than its box is clipped if the box does not scroll; and even a box
    that scrolls hides the table's right part behind a scrollbar at the table's foot,
    which is how the misconceptions table was missed (issue 11). The book's stylesheet
    (book/_static/book.css) lets every table wrap to the column, so both count."""
    page = browser.new_page()
    page.goto(f"{site}/{page_path}", wait_until="load")
    page.evaluate(WAIT_FOR_MATH)
    tables = page.evaluate(TABLE_WIDTHS)
    page.close()
    clipped = [t for t in tables if t["table"] > t["box"] + 1 and not t["scrolls"]]
    hidden = [t for t in tables if t["table"] > t["box"] + 1 and t["scrolls"]]
    outside = [t for t in tables if t["past_article"] > 1]
    assert not clipped, f"{page_path}: tables wider than their box, clipped: {clipped}"
    assert not hidden, f"{page_path}: tables that need a sideways scrollbar: {hidden}"
    assert not outside, f"{page_path}: table boxes reaching past the article: {outside}"


@pytest.mark.browser
@pytest.mark.parametrize("edition, query, least", [
    ("", "delta", 1),
    # Sphinx indexes Chinese pages by jieba's words: 梯度 (gradient) is one
    (ZH, "梯度", 5),
], ids=["en", "zh"])
def test_search_works_offline(site, browser, edition, query, least):
    page = browser.new_page()
    page.goto(f"{site}/{edition}search.html?q={query}", wait_until="load")
    page.wait_for_selector("#search-results ul.search li", timeout=20_000)
    hits = page.locator("#search-results ul.search li").count()
    assert hits >= least, f"only {hits} pages found for {query}"
    page.close()


@pytest.mark.parametrize("source", notebook_files(), ids=lambda p: p.name)
def test_figures_appear_only_as_captioned_glue_figures(source):
    """A plot shown straight from a cell would have no caption and no alt text."""
    executed = ROOT / "_build" / "jupyter_execute" / source.relative_to(ROOT).with_suffix(".ipynb")
    nb = nbformat.read(executed, as_version=4)
    bare = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if any(k.startswith("image/") for k in o.get("data", {}))]
    assert not bare, f"cells that show a figure without caption/alt text: {bare}"
