"""Convert every chapter listed in _toc.yml from MyST Markdown to .ipynb with jupytext.

Usage: python tests/convert_notebooks.py OUTDIR  (writes OUTDIR/book/NN_slug.ipynb)
"""

import sys
from pathlib import Path

import jupytext

sys.path.insert(0, str(Path(__file__).parent))
from bookcheck import ROOT, notebook_files  # noqa: E402

out = Path(sys.argv[1])
for path in notebook_files():
    target = out / path.relative_to(ROOT).with_suffix(".ipynb")
    target.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(jupytext.read(path), target)
    print(f"{path.relative_to(ROOT)} -> {target}")
