"""The exercise editions and their checkers (backprop.exercises).

tools/make_exercises.py writes a teacher and a student notebook per chapter.
These tests build both from a synthetic chapter (tests/fixtures/exercises)
and from every book chapter that uses the convention, execute them, and
check that the teacher edition passes every check, the student edition
reports "not implemented yet" for every check and fails nowhere else, and
no solution line reaches the student. Each checker must reject plausible
wrong answers (a missing transpose, a missing 1/N, a wrong axis).
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from backprop import exercises as ex

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "exercises"
sys.path.insert(0, str(ROOT / "tools"))
import make_exercises as mk  # noqa: E402

TIMEOUT = 120  # seconds per cell


def execute(nb, where: Path):
    """Run ``nb`` in a fresh python3 kernel; return it with outputs."""
    from nbclient import NotebookClient

    NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(where)}}).execute()
    return nb


def check_outputs(nb) -> list[str]:
    """The printed text of each check cell."""
    texts = []
    for cell in nb.cells:
        if mk.TAG_CHECK in cell.metadata.get("tags", []):
            texts.append("".join(o.get("text", "") for o in cell.outputs
                                 if o.get("output_type") == "stream"))
    return texts


def converted_chapters() -> list[Path]:
    """The book's chapters whose exercises use the {exercise} directive."""
    return [p for p in mk.toc_chapters(ROOT)
            if "{exercise}" in p.read_text()
            or "{exercise-start}" in p.read_text()]


# ------------------------------------------------------------ the editions
@pytest.fixture(scope="module")
def fixture_editions(tmp_path_factory):
    out = tmp_path_factory.mktemp("editions")
    done = mk.write_editions(FIXTURE, out, log=lambda *a: None)
    assert [e.name for e in done] == ["90_fixture.md"]
    return done[0], out


def test_the_fixture_has_what_the_tests_need(fixture_editions):
    editions, out = fixture_editions
    assert (editions.exercises, editions.solution_cells,
            editions.check_cells) == (4, 3, 3)
    for kind in ("teacher", "student"):
        assert (out / kind / "90_fixture.ipynb").is_file()
        sources = [c.source for c in getattr(editions, kind).cells]
        assert any("default_rng(backprop.SEED)" in s for s in sources)
        assert any(s.startswith("def mse(") for s in sources)  # setup tag
        text = "\n".join(sources)
        assert "BODY_ONLY" not in text and "## Summary" not in text


def test_teacher_edition_passes_every_check(fixture_editions, tmp_path):
    editions, _ = fixture_editions
    nb = execute(nbformat.from_dict(editions.teacher), tmp_path)
    texts = check_outputs(nb)
    assert len(texts) == 3
    assert all(": correct." in t for t in texts), texts


def test_student_edition_runs_and_every_check_says_not_yet(
        fixture_editions, tmp_path):
    editions, _ = fixture_editions
    nb = execute(nbformat.from_dict(editions.student), tmp_path)
    texts = check_outputs(nb)
    assert len(texts) == 3
    for n, t in zip((2, 3, 4), texts):
        assert t.strip().endswith(
            f"not implemented yet (Exercise {n}: write your answer here)."), t
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", out
            assert "Traceback" not in out.get("text", "")


def test_no_solution_reaches_the_student(fixture_editions):
    editions, _ = fixture_editions
    student = "\n".join(c.source for c in editions.student.cells)
    assert editions.solution_lines  # the test is not vacuous
    for line in editions.solution_lines:
        assert line not in student, line
    for marker in (mk.BEGIN, mk.END, "Solution to Exercise",
                   "Each row's error is divided", "Positive: the deriv"):
        assert marker not in student
    teacher = "\n".join(c.source for c in editions.teacher.cells)
    assert all(line in teacher for line in editions.solution_lines)
    assert mk.leaked(editions) == []


def test_a_wrong_solution_fails_the_teacher_edition(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(FIXTURE, book)
    chapter = book / "book" / "90_fixture.md"
    text = chapter.read_text()
    assert "grad_A = G @ B.T" in text
    chapter.write_text(text.replace("grad_A = G @ B.T", "grad_A = G @ B"))
    editions = mk.build_editions(chapter)
    from nbclient.exceptions import CellExecutionError

    with pytest.raises(CellExecutionError, match="AssertionError"):
        execute(editions.teacher, tmp_path)


def test_teacher_cells_carry_nbgrader_metadata(fixture_editions):
    editions, _ = fixture_editions
    meta = [c.metadata["nbgrader"] for c in editions.teacher.cells
            if "nbgrader" in c.metadata]
    ids = [m["grade_id"] for m in meta]
    assert len(ids) == len(set(ids)) == 10
    assert ids[:3] == ["ex1-answer", "ex2-answer", "ex2-solution"]
    kinds = [(m["solution"], m["grade"], m["locked"]) for m in meta]
    assert kinds.count((True, False, False)) == 3  # code answers
    assert kinds.count((False, True, True)) == 3   # checks, autograded
    assert kinds.count((True, True, False)) == 4   # prose, graded by hand


@pytest.mark.notebook
@pytest.mark.parametrize("path", converted_chapters() or [None],
                         ids=lambda p: p.stem if p else "none")
def test_book_chapter_editions(path, tmp_path):
    if path is None:
        pytest.skip("no chapter in _toc.yml uses {exercise} yet")
    editions = mk.build_editions(path)
    assert editions.check_cells >= 1 and mk.leaked(editions) == []
    teacher = check_outputs(execute(editions.teacher, tmp_path))
    assert teacher and all(": correct." in t for t in teacher), teacher
    student = check_outputs(execute(editions.student, tmp_path))
    assert all("not implemented yet" in t for t in student), student


def test_every_book_chapter_follows_the_convention(tmp_path):
    """The writer accepts the whole book (converted or not yet)."""
    mk.write_editions(ROOT, tmp_path, log=lambda *a: None)


def test_make_exercises_command_line(tmp_path):
    run = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_exercises.py"),
         "--root", str(FIXTURE), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "90_fixture: 4 exercises" in run.stdout
    assert str(tmp_path / "student") in run.stdout


# ------------------------------------------------------------ convention
CHAPTER = """---
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A chapter

```{{code-cell}} ipython3
:tags: [remove-cell]
import numpy as np
```

## Exercises

````{{exercise}}
:label: ex-a

Do it.
````

```{{code-cell}} ipython3
:tags: [{tags}]
{code}
```
"""


def build(tmp_path, code, tags="exercise-solution"):
    path = tmp_path / "01_a.md"
    path.write_text(CHAPTER.format(code=code, tags=tags))
    return mk.build_editions(path)


@pytest.mark.parametrize("code, tags, message", [
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
     "hide-input", "not tagged exercise-solution"),
    ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "exercise-solution",
     "top level"),
    ("def f():\n    ### BEGIN SOLUTION\n    return 1", "exercise-solution",
     "without"),
    ("def f():\n    return 1", "exercise-solution", "has no"),
    ("assert check_value(f, 1), 'no'", "exercise-check", "no message"),
    ("if True:\n    assert check_value(f, 1)", "exercise-check",
     "top level"),
])
def test_the_writer_rejects_what_would_leak_or_crash(tmp_path, code, tags,
                                                     message):
    with pytest.raises(mk.ConventionError, match=message):
        build(tmp_path, code, tags)


def test_a_chapter_without_exercise_directives_is_skipped(tmp_path):
    path = tmp_path / "02_b.md"
    path.write_text(CHAPTER.format(code="x = 1", tags="hide-input")
                    .replace("{exercise}", "{admonition} Exercise"))
    assert mk.build_editions(path) is None


def test_stub_keeps_the_def_and_the_code_around_the_markers():
    src = ("def f(x):\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION\n"
           "    y = 2 * x\n    ### END SOLUTION\n    return y\n")
    out, removed = mk.stub(src, 7)
    assert out == ("def f(x):\n    \"\"\"Doc.\"\"\"\n    raise "
                   "NotImplementedError(\"Exercise 7: write your answer "
                   "here\")\n    return y\n")
    assert removed == ["y = 2 * x"]


def test_unassert_keeps_multiline_calls_valid():
    src = "r = 1\nassert check(a,\n             b)\n"
    assert mk.unassert(src, 1) == "r = 1\ncheck(a,\n      b)\n"
    assert mk.unassert("r = check(a)\nassert r", 1) == "r = check(a)\nr"
    with pytest.raises(mk.ConventionError, match="plain Python"):
        mk.unassert("%timeit check(a)", 1)


# ------------------------------------------------------------ checkers
def mse(Y_hat, Y):
    return 0.5 * np.sum((Y_hat - Y) ** 2) / len(Y)


def mse_grad(Y_hat, Y):
    return (Y_hat - Y) / len(Y)


def mse_grad_sum(Y_hat, Y):  # the missing 1/N
    return Y_hat - Y


def matmul_backward(G, A, B):
    return G @ B.T, A.T @ G


def matmul_no_transpose(G, A, B):  # square B hides the shape error
    return G @ B, A.T @ G


def matmul_transposed(G, A, B):  # dE/dA^T instead of dE/dA
    return B @ G.T, A.T @ G


def bias_grad(G):
    return G.sum(axis=0)


def bias_wrong_axis(G):
    return G.sum(axis=1)


def bias_mean(G):
    return G.mean(axis=0)


def stub(*args):
    raise NotImplementedError("Exercise 1: write your answer here")


def quiet(capsys, fn, *args, **kwargs):
    """The checker's result and its report, with line breaks as spaces."""
    result = fn(*args, **kwargs)
    out = capsys.readouterr().out
    assert out.endswith("\n") and result.message == out[:-1]
    assert max(len(line) for line in out.split("\n")) <= 79
    return result, " ".join(out.split())


def test_check_gradient(capsys):
    r, out = quiet(capsys, ex.check_gradient, mse, mse_grad,
                   [(5, 2), (5, 2)], wrt=0)
    assert r and r.passed and "correct" in out
    r, out = quiet(capsys, ex.check_gradient, mse, mse_grad_sum,
                   [(5, 2), (5, 2)], wrt=0)
    assert not r and r.status == "wrong"
    assert "5 times the right one" in out and "missing division by 5" in out
    assert "at [" in out and "expected" in out  # which entries, how much


def test_check_backward(capsys):
    shapes = [(4, 3), (3, 3)]
    r, _ = quiet(capsys, ex.check_backward, lambda A, B: A @ B,
                 matmul_backward, shapes)
    assert r
    r, out = quiet(capsys, ex.check_backward, lambda A, B: A @ B,
                   matmul_no_transpose, shapes)
    assert not r and "dA is wrong" in out and "entries differ" in out
    assert "dB is right" in out
    r, out = quiet(capsys, ex.check_backward, lambda A, B: A @ B,
                   matmul_transposed, [(4, 3), (3, 2)])
    assert not r and "has shape (3, 4); expected (4, 3)" in out
    assert "looks transposed" in out


def test_check_function(capsys):
    ref = lambda G: G.sum(axis=0)  # noqa: E731
    r, _ = quiet(capsys, ex.check_function, bias_grad, ref, [(6, 3)])
    assert r
    r, out = quiet(capsys, ex.check_function, bias_wrong_axis, ref,
                   [(6, 3)])
    assert not r and "shape (6,); expected (3,)" in out
    assert "wrong axis" in out
    r, out = quiet(capsys, ex.check_function, bias_wrong_axis, ref,
                   [(4, 4)])  # square: same shape, wrong values
    assert not r and "entries differ" in out
    r, out = quiet(capsys, ex.check_function, bias_mean, ref, [(6, 3)])
    assert not r and "1/6 of the right one" in out


def test_check_value(capsys):
    r, _ = quiet(capsys, ex.check_value, lambda: np.array([1.0, 2.0]),
                 [1, 2])
    assert r
    r, out = quiet(capsys, ex.check_value, lambda: np.array([1.0, 2.5]),
                   [1, 2], reveal=True)
    assert not r and "at [1]: got 2.5, expected 2" in out


@pytest.mark.parametrize("call", [
    lambda: ex.check_gradient(mse, stub, [(2, 2), (2, 2)], wrt=0),
    lambda: ex.check_gradient(stub, mse_grad, [(2, 2), (2, 2)], wrt=0),
    lambda: ex.check_backward(lambda A, B: A @ B, stub, [(2, 2), (2, 2)]),
    lambda: ex.check_function(stub, np.sum, [(3,)]),
    lambda: ex.check_value(stub, 1.0),
])
def test_a_stub_is_not_implemented_yet_not_a_traceback(capsys, call):
    r = call()
    out = capsys.readouterr().out
    assert not r and r.not_implemented
    assert out.endswith("not implemented yet (Exercise 1: write your "
                        "answer here).\n")


def test_other_mistakes_are_reported(capsys):
    r, out = quiet(capsys, ex.check_function, lambda x: None, np.sin,
                   [(3,)], name="f")
    assert r.status == "wrong" and "None (a missing return?)" in out
    r, out = quiet(capsys, ex.check_function, lambda x: x[5], np.sin,
                   [(3,)], name="f")
    assert r.status == "error" and "IndexError" in out

    def in_place(x):
        x *= 2
        return x

    r, out = quiet(capsys, ex.check_function, in_place, lambda x: 2 * x,
                   [(3,)])
    assert not r and "in place" in out
    r, out = quiet(capsys, ex.check_function, lambda x: x.astype(np.float32),
                   lambda x: x, [(3,)], name="f", dtype=np.float64)
    assert not r and "dtype float32; expected float64" in out
    r, out = quiet(capsys, ex.check_function, lambda x: x * np.nan,
                   lambda x: x, [(3,)], name="f")
    assert not r and "NaN or inf" in out
    r, out = quiet(capsys, ex.check_gradient, mse,
                   lambda a, b: (a - b) / len(a), [(2, 3), (2, 3)])
    assert not r and "a tuple of 2 arrays" in out
    r, out = quiet(capsys, ex.check_gradient, lambda y: y ** 2,
                   lambda y: 2 * y, [(3,)])
    assert not r and "must return one number (E)" in out


def test_reports_are_the_same_every_run(capsys):
    for _ in range(2):
        ex.check_gradient(mse, mse_grad_sum, [(5, 2), (5, 2)], wrt=0)
    first, second = capsys.readouterr().out.split("mse_grad_sum:")[1:]
    assert first == second


def test_bad_checker_arguments_raise_before_any_call():
    with pytest.raises(TypeError, match="must be a function"):
        ex.check_function(1, np.sin, [(3,)])
    with pytest.raises(TypeError, match="list of shapes"):
        ex.check_function(np.sin, np.sin, 3)
    with pytest.raises(ValueError, match="positive"):
        ex.check_function(np.sin, np.sin, [(0, 3)])
    with pytest.raises(ValueError, match="tol"):
        ex.check_function(np.sin, np.sin, [(3,)], tol=0)
    with pytest.raises(ValueError, match="at least 1"):
        ex.check_function(np.sin, np.sin, [(3,)], trials=0)
    with pytest.raises(ValueError, match="wrt names input 2"):
        ex.check_gradient(mse, mse_grad, [(2, 2), (2, 2)], wrt=2)


# ------------------------------------------------------------ nbgrader
def test_nbgrader_generate_assignment_accepts_a_teacher_notebook(
        fixture_editions, tmp_path):
    # nbgrader is in requirements.txt: a missing install is a failure here
    assert importlib.util.find_spec("nbgrader") is not None, (
        "nbgrader is missing: pip install -r requirements.txt")
    editions, out = fixture_editions
    course = tmp_path / "course"
    source = course / "source" / "ps1"
    source.mkdir(parents=True)
    shutil.copy(out / "teacher" / "90_fixture.ipynb", source)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.CourseDirectory.db_assignments = [dict(name='ps1')]\n")
    # nbgrader runs the `alembic` command of its environment: put it on PATH
    env = dict(os.environ, PATH=os.pathsep.join(
        [str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    run = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", "ps1",
         "--force"], cwd=course, env=env, capture_output=True, text=True,
        timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    released = nbformat.read(course / "release" / "ps1" / "90_fixture.ipynb",
                             as_version=4)
    text = "\n".join(c.source for c in released.cells)
    assert text.count("raise NotImplementedError()") == 3
    assert "YOUR ANSWER HERE" in text and "Positive: the deriv" not in text
    assert all(line not in text for line in editions.solution_lines)


def test_exercises_are_numbered_through_the_book_as_the_html_is(tmp_path):
    """sphinx-exercise numbers exercises across chapters in toc order."""
    chapter = FIXTURE / "book" / "90_fixture.md"
    assert mk.count_exercises(chapter) == 4
    second = tmp_path / "91_again.md"
    second.write_text(chapter.read_text())
    assert mk.first_numbers([chapter, second]) == {
        chapter.resolve(): 1, second.resolve(): 5}
    editions = mk.build_editions(second, first=5)
    student = "\n".join(c.source for c in editions.student.cells)
    assert "### Exercise 8: The bias gradient" in student
    assert 'NotImplementedError("Exercise 8: write your answer' in student


def test_every_chapter_of_parts_one_to_four_is_assignable():
    """Issue 13: each chapter of Parts I-IV has 3-6 exercises, at least one of
    them a coding exercise with a check cell (the back matter has none)."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    chapters = [c["file"] for part in toc["parts"]
                if part["caption"].startswith("Part")
                for c in part["chapters"]]
    assert len(chapters) >= 19
    bad = {}
    for name in chapters:
        path = ROOT / f"{name}.md"
        text = path.read_text(encoding="utf-8")
        n = mk.count_exercises(path)
        checks = len(re.findall(r"^:tags: \[[^\]]*\bexercise-check\b",
                                text, re.M))
        if not (3 <= n <= 6 and checks >= 1):
            bad[name] = (n, checks)
    assert not bad, f"(exercises, check cells) outside 3-6 / >= 1: {bad}"


# ------------------------------------------------------------ review fixes
# A teacher's review of the editions of chapters 4 and 17 (items 1-8).
REF_CHAPTER = """---
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

(ch-refs)=
# A chapter with references

```{code-cell} ipython3
:tags: [remove-cell]
import numpy as np
import sympy as sp
from myst_nb import glue
from sklearn.model_selection import train_test_split

import backprop
from backprop import exercises, symbolic
```

$$
a = b + 1
$$

$$
y = 2 x
$$ (eq-refs-line)

## Exercises

````{exercise} First
:label: ex-refs-first

Use {eq}`eq-refs-line`, then see {numref}`ex-refs-second` and
{ref}`ch-refs`.
````

```{code-cell} ipython3
:tags: [exercise-teacher]
glue("refs-key", 1, display=False)
assert exercises.check_value(lambda: np.ones(2), [1, 1])
```

````{exercise} Second
:label: ex-refs-second

Once more, {eq}`eq-refs-line`.
````
"""


def ref_editions(tmp_path, first=7):
    path = tmp_path / "05_refs.md"
    path.write_text(REF_CHAPTER)
    return mk.build_editions(path, first=first)


def markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_eq_and_numref_print_the_equation_and_the_exercise_number(
        tmp_path):
    """Item 1: no bare label; the equation itself follows the paragraph,
    with the number the book gives it (its page's labelled displays)."""
    editions = ref_editions(tmp_path)
    for nb in (editions.student, editions.teacher):
        text = markdown(nb)
        assert "eq-refs-line" not in text and "ex-refs" not in text
        assert "Use Eq. 1, then see Exercise 8 and\n*A chapter" in text
        assert text.count("$$\ny = 2 x\n\\tag{1}\n$$") == 2  # each use


def test_book_equations_are_inlined_in_chapter_4():
    editions = mk.build_editions(ROOT / "book" / "04_delta_rule.md")
    index = mk.book_index(ROOT)
    grad_b = index.equations["eq-grad-b"]
    assert grad_b.chapter == "04_delta_rule" and grad_b.latex
    for nb in (editions.student, editions.teacher):
        text = markdown(nb)
        assert "(eq-" not in text and "`eq-" not in text
        assert f"BP3 (Eq. {grad_b.number})" in text
        assert f"{grad_b.latex}\n\\tag{{{grad_b.number}}}" in text
    # an unnumbered toctree: Sphinx numbers equations through the book,
    # in toc order (a scratch build of chapters 4 and 17 agreed on all 27)
    numbers = [e.number for e in index.equations.values()]
    assert numbers == list(range(1, len(numbers) + 1))
    conv = index.equations["eq-conv-dk"]
    assert grad_b.number > 12 and conv.number > grad_b.number
    # an equation of another chapter names that chapter
    tanh = index.equations["eq-tanh-prime"]
    assert tanh.chapter != "04_delta_rule"
    assert f"Eq. {tanh.number} of the chapter *" in markdown(
        editions.student)


STATES_THE_ANSWER = [
    (re.compile(r"[=*][^;]*\w'\("), "a product or sum with f'(z)"),
    (re.compile(r"\bsum_\w+\s+\w+\^"), "a closed-form sum"),
]


def docstring(source: str) -> str:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef):
            return ast.get_docstring(node) or ""
    return ""


def test_stub_docstrings_give_shapes_not_the_formula():
    """Item 2: a stub's docstring says what goes in and out, not how (the
    formula). Heuristic: no expression with a derivative f'(.), no
    closed-form sum."""
    bad = []
    for path in converted_chapters():
        editions = mk.build_editions(path)
        for cell in editions.student.cells:
            if mk.TAG_SOLUTION not in cell.metadata.get("tags", []):
                continue
            doc = docstring(cell.source)
            assert doc, cell.source
            bad += [(path.stem, doc, why) for pattern, why
                    in STATES_THE_ANSWER if pattern.search(doc)]
    assert not bad, bad


def affine(A, W, b):
    return A @ W + b


def test_a_report_lists_every_gradient_by_the_students_names(capsys):
    """Item 3: the right gradients are listed as right; inputs are named by
    the parameters of the reader's function."""
    def mine(D, X, M, c):  # dM transposed
        return D @ M.T, D.T @ X, D.sum(axis=0)

    r, out = quiet(capsys, ex.check_backward, affine, mine,
                   [(5, 3), (3, 4), (4,)])
    assert not r and "1 of 3 returned gradients is wrong" in out
    assert "dX is right" in out and "dc is right" in out
    assert "dM has shape (4, 3); expected (3, 4). It looks transposed" \
        in out
    assert "input 2" not in out


def test_swapped_outputs_are_named_as_swapped(capsys):
    """Item 4: (db, dW) instead of (dW, db) is a wrong order, not a wrong
    axis."""
    X = np.random.default_rng(0).standard_normal((5, 3))

    def swapped(G, W, b):
        return G.sum(axis=0), X.T @ G

    r, out = quiet(capsys, ex.check_backward, lambda W, b: X @ W + b,
                   swapped, [(3, 4), (4,)])
    assert not r and "axis" not in out
    assert ("The outputs look swapped: expected (dW, db) in that order; "
            "swapped returned (db, dW).") in out

    def same_shapes(G, x, y):  # same shapes: told apart by the values
        return G * x, G * y

    r, out = quiet(capsys, ex.check_backward, lambda x, y: x * y,
                   same_shapes, [(3,), (3,)])
    assert "look swapped: expected (dx, dy)" in out


def test_a_shape_error_shows_the_shapes_received(capsys):
    """Item 5: NumPy's message in one clean line, with the shapes the
    function was called with."""
    def no_transpose(D, A, W, b):
        return D @ W, A.T @ D, D.sum(axis=0)

    r, out = quiet(capsys, ex.check_backward, affine, no_transpose,
                   [(5, 3), (3, 4), (4,)])
    assert r.status == "error" and "Traceback" not in out
    assert ("no_transpose raised ValueError on arguments D (5, 4), "
            "A (5, 3), W (3, 4), b (4,): matmul: Input operand 1 has a "
            "mismatch") in out

    def broadcast(D, A, W, b):
        return D * A, A.T @ D, D.sum(axis=0)

    r, out = quiet(capsys, ex.check_backward, affine, broadcast,
                   [(5, 3), (3, 4), (4,)])
    assert "broadcast raised ValueError on arguments D (5, 4)," in out
    assert "could not be broadcast together" in out
    assert "\n" not in r.message.replace("\n  ", " ")  # one wrapped line


def test_the_setup_cell_imports_only_what_the_cells_use(tmp_path):
    """Item 6: no myst_nb or sklearn; a glue call runs as a no-op."""
    editions = ref_editions(tmp_path)
    for nb in (editions.teacher, editions.student):
        setup = nb.cells[1].source
        assert "myst_nb" not in setup and "sklearn" not in setup
        assert "sympy" not in setup and "symbolic" not in setup
        assert "import numpy as np" in setup
        assert "from backprop import exercises" in setup
        assert "def glue(" in setup
    nb = execute(editions.teacher, tmp_path)  # the glue cell runs
    assert all(o["output_type"] != "error" for c in nb.cells
               for o in c.get("outputs", []))
    for path in (ROOT / "book" / "04_delta_rule.md",
                 ROOT / "book" / "17_convolution.md"):
        setup = mk.build_editions(path).student.cells[1].source
        for name in ("myst_nb", "sklearn", "scipy", "mpmath"):
            assert name not in setup, (path.stem, name)
        assert max(len(line) for line in setup.split("\n")) <= 79


def test_prune_setup_keeps_what_is_used_and_wraps():
    src = ("# comment\nimport time\n\nimport numpy as np\n"
           "from m import (alpha, beta,\n    gamma)\nx = np.ones(3)\n")
    out = mk.prune_setup(src, "alpha(1); gamma(2)")
    assert out == ("# comment\nimport numpy as np\n"
                   "from m import alpha, gamma\nx = np.ones(3)")


def test_the_notebooks_say_the_numbers_are_the_books(tmp_path):
    """Item 7: the numbering is book-wide; the chapter's page is named."""
    editions = ref_editions(tmp_path, first=7)
    for nb in (editions.teacher, editions.student):
        head = nb.cells[0].source
        assert "(7 to 8) are the book's" in head
        assert "numbered through the whole book" in head
        assert "`05_refs`" in head and "05_refs.html" in head
    head = mk.build_editions(ROOT / "book" / "17_convolution.md",
                             ).student.cells[0].source
    first = mk.first_numbers(mk.toc_chapters(ROOT))[
        (ROOT / "book" / "17_convolution.md").resolve()]
    assert f"({first} to {first + 4}) are the book's" in head
    assert "book/17_convolution.html" in head


def test_check_value_for_pen_and_paper_answers(capsys):
    """Item 8: type, shape, NaN, the tolerance; the right number is not
    given away."""
    def size():
        return 13

    r, out = quiet(capsys, ex.check_value, size, 14, tol=1e-12)
    assert r.status == "wrong" and "13, is too small" in out
    assert "relative error of 1e-12" in out and "14" not in out
    r, out = quiet(capsys, ex.check_value, lambda: "14", 14, name="size")
    assert r.status == "wrong" and "a str; expected one number" in out
    r, out = quiet(capsys, ex.check_value, lambda: float("nan"), 14,
                   name="size")
    assert "nan, not a finite number" in out
    r, out = quiet(capsys, ex.check_value, lambda: [14, 1], 14,
                   name="size")
    assert "shape (2,); expected one number" in out
    r, out = quiet(capsys, ex.check_value, lambda: True, 1, name="size")
    assert "a bool" in out
    r, out = quiet(capsys, ex.check_value, 14, 14, name="size")
    assert r and "relative error below 1e-10" in out
    r, out = quiet(capsys, ex.check_value, lambda: 14, 14, name="size")
    assert r


def test_chapter_17_checks_its_numeric_answers():
    editions = mk.build_editions(ROOT / "book" / "17_convolution.md")
    checks = [c.source for c in editions.student.cells
              if mk.TAG_CHECK in c.metadata.get("tags", [])]
    assert any("check_value(output_size," in c for c in checks)
    assert any("check_value(dense_weight_count," in c for c in checks)
    teacher = [c.source for c in editions.teacher.cells
               if mk.TAG_TEACHER in c.metadata.get("tags", [])]
    assert any("assert not exercises.check_value(output_size_wrong" in c
               for c in teacher)
    assert any("assert not exercises.check_value(dense_weights_wrong" in c
               for c in teacher)


def test_a_nearly_right_answer_gets_no_factor_hint():
    """An answer a hair off (eps inside the square root of Adam, say) is
    not "1 times the right one": the report says it is close."""
    want = np.linspace(1.0, 2.0, 6)
    hint = ex._cause(want * (1 + 1e-8), want)
    assert "Close, but outside the tolerance" in hint and "times" not in hint


def test_the_student_edition_has_a_cell_for_each_written_answer(tmp_path):
    """Where the teacher edition has a solution, the student edition has a
    markdown cell to answer in, of its own."""
    import nbformat

    subprocess.run([sys.executable, str(ROOT / "tools" / "make_exercises.py"),
                    "--out", str(tmp_path)], check=True, capture_output=True)
    nb = nbformat.read(tmp_path / "student" / "04_delta_rule.ipynb", 4)
    answers = [c.source for c in nb.cells if c.cell_type == "markdown"
               and c.source.startswith("**Your answer to Exercise")]
    heads = [c for c in nb.cells if c.cell_type == "markdown"
             and c.source.startswith("### Exercise")]
    assert len(answers) == len(heads) == 6
    assert "Your answer" in nb.cells[0].source
