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
