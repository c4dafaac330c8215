"""One figure style for the whole book (kept apart from the math).

Call :func:`use_book_style` at the top of a chapter. Colours are the Okabe-Ito palette,
which stays distinguishable for the common forms of colour blindness; inside Jupyter,
figures are emitted as SVG so they stay sharp and light.
"""

from __future__ import annotations

#: Okabe & Ito's colour-blind-safe palette (black first dropped: used for axes).
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

STYLE = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "svg.fonttype": "path",   # text as paths: identical rendering without the fonts
    "svg.hashsalt": "backprop-executed",  # deterministic SVG ids between runs
}


def use_book_style(svg: bool = True) -> None:
    """Apply the book's matplotlib style; inside IPython also switch figures to SVG."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(STYLE)
    mpl.rcParams["axes.prop_cycle"] = cycler(color=PALETTE)
    if svg:
        try:
            from IPython import get_ipython
            from matplotlib_inline.backend_inline import set_matplotlib_formats
        except ImportError:  # plain Python: nothing to switch
            return
        if get_ipython() is not None:
            set_matplotlib_formats("svg")


#: fonts that carry Chinese glyphs, in order of preference (Debian: fonts-noto-cjk)
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC")


def cjk_font() -> str:
    """The name of an installed font with Chinese glyphs.

    Raises a RuntimeError that says what to install when there is none, so
    a figure never shows empty boxes in place of Chinese words.
    """
    from matplotlib import font_manager

    for attempt in range(2):
        names = {f.name for f in font_manager.fontManager.ttflist}
        for name in CJK_FONTS:
            if name in names:
                return name
        # matplotlib's font cache may predate the fonts: add them directly
        for path in font_manager.findSystemFonts():
            if "CJK" in path:
                font_manager.fontManager.addfont(path)
    raise RuntimeError(
        "no font with Chinese glyphs is installed: install Debian's "
        "fonts-noto-cjk (make book does this when run as root), then delete "
        "matplotlib's font cache (~/.cache/matplotlib) and run again")


def translated(fig, words: dict[str, str]):
    """A copy of ``fig`` for the Chinese edition, with its words replaced.

    Every text of the figure (titles, axis labels, tick labels, legend
    entries, annotations) that equals a key of ``words`` is replaced by its
    value, set in a Chinese font; symbols and numbers stay as they are.
    Glue the copy as ``<key>-zh`` next to ``<key>``: the Chinese pages then
    show it in place of the English figure (``_ext/editions.py``). A key of
    ``words`` that matches no text of the figure raises a KeyError, so a
    renamed label cannot silently leave an English word behind.
    """
    import copy

    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    if not isinstance(words, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in words.items()):
        raise TypeError("words must be a dict of str -> str")
    font = cjk_font()
    clone = copy.deepcopy(fig)
    # a copy of a pyplot figure registers itself with pyplot again, and a
    # notebook would then show it under the cell: only the glue may show it
    plt.close(clone)
    used = set()
    for text in clone.findobj(Text):
        s = text.get_text()
        if s in words:
            text.set_text(words[s])
            text.set_fontfamily([font, "DejaVu Sans"])
            used.add(s)
    _translate_tick_labels(clone, words, font, used)
    unused = sorted(set(words) - used)
    if unused:
        plt.close(clone)
        raise KeyError(f"no text of the figure reads {unused}")
    return clone


def _translate_tick_labels(fig, words, font, used) -> None:
    """Tick labels set with ``set_xticks(ticks, labels)`` live in the axis's
    formatter (a FixedFormatter, or a FuncFormatter over a {loc: label}
    dict), and every draw rebuilds the tick texts from it: replacing the
    Text objects alone would be undone when the figure is drawn."""
    import functools

    from matplotlib.ticker import FixedFormatter, FuncFormatter

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            fmt = axis.get_major_formatter()
            if isinstance(fmt, FixedFormatter):
                labels = list(fmt.seq)
            elif (isinstance(fmt, FuncFormatter)
                  and isinstance(fmt.func, functools.partial)
                  and fmt.func.args and isinstance(fmt.func.args[0], dict)):
                labels = list(fmt.func.args[0].values())
            else:
                continue
            if not any(s in words for s in labels):
                continue
            used.update(s for s in labels if s in words)
            if isinstance(fmt, FixedFormatter):
                fmt.seq = [words.get(s, s) for s in labels]
            else:
                table = fmt.func.args[0]
                for loc, s in table.items():
                    table[loc] = words.get(s, s)
            axis.set_tick_params(labelfontfamily=[font, "DejaVu Sans"])
