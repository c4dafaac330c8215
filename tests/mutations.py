"""Plausible bugs in the package, and the machinery that shows the checks catch them.

Used by tests/test_mutations.py. Each :class:`Mutation` is one exact text substitution
in one module of ``backprop/`` (its ``old`` text must occur exactly once, so a
refactor that moves the line fails loudly instead of silently skipping the mutation).
For each mutation, a fresh copy of the package gets the substitution, and then

* the package tests of that code run in a subprocess (``pytest -x``), and
* the chapter that shows that code (its ``{literalinclude}`` ``:pyobject:``) is
  converted with jupytext and executed with nbclient, up to its first failing cell,

both with the mutated copy first on the import path (asserted: the subprocess and
the kernel report the ``backprop`` they imported). The same commands on an
unmutated copy are the control: a mutation counts as caught only where the
unmutated package passes.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "backprop"
TESTS = ROOT / "tests"


@dataclass(frozen=True)
class Mutation:
    id: str         # short name, the pytest id
    bug: str        # what a programmer got wrong
    file: str       # module inside backprop/
    old: str        # exact text, must occur once in the module
    new: str        # its replacement
    tests: tuple    # package test files (in tests/) that must fail
    chapter: str    # the chapter that shows the code; its check cells must fail


A, L, N, G, O = ("test_activations.py", "test_losses.py", "test_network.py",
                 "test_gradcheck.py", "test_optim.py")
CH1, CH2, CH3, CH4, CH5, CH6, CH10 = (
    "01_activations", "02_forward", "03_losses", "04_delta_rule",
    "05_matrix_backprop", "06_gradient_checking", "10_optimizers")

MUTATIONS = [
    # ---------------------------------------------------------------- activations.py
    Mutation("sigmoid-branches-swapped",
             "stable sigmoid: the two branches of np.where swapped",
             "activations.py",
             "return np.where(z >= 0, 1 / (1 + e), e / (1 + e))",
             "return np.where(z >= 0, e / (1 + e), 1 / (1 + e))",
             (A,), CH1),
    Mutation("sigmoid-prime-is-sigma",
             "Sigmoid.derivative returns sigma where sigma' belongs",
             "activations.py",
             "        s = sigmoid(z)\n        return s * (1 - s)\n",
             "        s = sigmoid(z)\n        return s\n",
             (A,), CH1),
    Mutation("sigmoid-backward-sigma",
             "Sigmoid.backward multiplies by a = sigma(z), not a (1 - a)",
             "activations.py",
             "return grad_a * a * (1 - a)",
             "return grad_a * a",
             (A, N), CH1),
    Mutation("tanh-backward-1-minus-a",
             "Tanh.backward uses 1 - a instead of 1 - a^2",
             "activations.py",
             "return grad_a * (1 - a * a)",
             "return grad_a * (1 - a)",
             (A, N), CH1),
    Mutation("softmax-wrong-axis",
             "softmax normalised over the batch (axis 0), not over each row",
             "activations.py",
             "e /= e.sum(axis=-1, keepdims=True)",
             "e /= e.sum(axis=0, keepdims=True)",
             (A, L), CH1),
    Mutation("softmax-backward-wrong-axis",
             "Softmax.backward sums a * dE/da over the batch, not the row",
             "activations.py",
             "np.sum(grad_a * a, axis=-1, keepdims=True)",
             "np.sum(grad_a * a, axis=0, keepdims=True)",
             (A,), CH1),
    # ---------------------------------------------------------------- losses.py
    Mutation("mse-grad-missing-1/N",
             "mse: the gradient misses the 1/N of the mean",
             "losses.py",
             "return float(np.sum(diff * diff) / (2 * n)), diff / n",
             "return float(np.sum(diff * diff) / (2 * n)), diff",
             (L,), CH3),
    Mutation("mse-value-missing-1/2",
             "mse: the value is 1/N sum, without the 1/2 the gradient assumes",
             "losses.py",
             "return float(np.sum(diff * diff) / (2 * n)), diff / n",
             "return float(np.sum(diff * diff) / n), diff / n",
             (L,), CH3),
    Mutation("bce-grad-logit-form",
             "binary_cross_entropy: dE/dp written as (p - y)/N, the logits' gradient",
             "losses.py",
             "grad = (p - y) / (p * (1 - p)) / n",
             "grad = (p - y) / n",
             (L,), CH3),
    Mutation("bce-logits-grad-no-sigmoid",
             "bce_with_logits: gradient (z - y)/N, sigmoid forgotten",
             "losses.py",
             "return float(np.sum(per_element) / n), (a - y) / n",
             "return float(np.sum(per_element) / n), (z - y) / n",
             (L,), CH3),
    Mutation("log-softmax-wrong-axis",
             "log_softmax: log-sum-exp over the batch (axis 0), not the row",
             "losses.py",
             "np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))",
             "np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))",
             (L,), CH3),
    Mutation("ce-value-missing-1/N",
             "cross-entropy from labels: the value is a sum, not a mean",
             "losses.py",
             "value = -np.sum(np.log(a_true)) / n",
             "value = -np.sum(np.log(a_true))",
             (L,), CH3),
    Mutation("ce-grad-missing-1/N",
             "cross-entropy: the gradient softmax - Y misses the 1/N",
             "losses.py",
             "    grad /= n\n    if not with_value:\n",
             "    if not with_value:\n",
             (L,), CH3),
    # ---------------------------------------------------------------- layers.py
    Mutation("forward-drops-bias",
             "Dense.forward: Z = X W, the bias forgotten",
             "layers.py",
             "self.Z += self.b",
             "self.Z += 0 * self.b",
             (N,), CH2),
    Mutation("dX-dropped-transpose",
             "Dense.backward_delta: dE/dX = delta W, the transpose dropped",
             "layers.py",
             "        return delta @ self.W.T\n",
             "        return delta @ self.W\n",
             (N,), CH4),
    Mutation("dW-extra-1/N",
             "Dense.backward_delta: dW = X^T delta / N, the mean taken twice",
             "layers.py",
             "self.dW = np.matmul(self.X.T, delta, out=self._dW_out)\n",
             "self.dW = np.matmul(self.X.T, delta / len(delta), "
             "out=self._dW_out)\n",
             (N,), CH5),
    Mutation("db-unsummed",
             "Dense.backward_delta: db = delta, not summed over the batch",
             "layers.py",
             "self.db = delta.sum(axis=0, out=self._db_out)",
             "self.db = delta",
             (N,), CH5),
    # ---------------------------------------------------------------- network.py
    Mutation("delta-wrong-layers-fprime",
             "delta recursion applies layer l+1's f' instead of layer l's",
             "network.py",
             "delta = prev.activation.backward(prev.Z, prev.A, grad_A_prev)",
             "delta = layer.activation.backward(prev.Z, prev.A, grad_A_prev)",
             (N,), CH5),
    Mutation("delta-out-no-fprime",
             "MSE output error: delta[L] = dE/dA[L], the output f' forgotten",
             "network.py",
             "return value, last.activation.backward(last.Z, last.A, grad_A)",
             "return value, grad_A",
             (N,), CH3),
    # ---------------------------------------------------------------- gradcheck.py
    Mutation("central-diff-over-h",
             "central difference divided by h, not 2h",
             "gradcheck.py",
             "    2: ((1, 1 / 2),),\n",
             "    2: ((1, 1),),\n",
             (G,), CH6),
    Mutation("perturbation-not-restored",
             "numerical_gradient leaves x perturbed (no restore in finally)",
             "gradcheck.py",
             "        finally:\n            flat[i] = old\n",
             "        finally:\n            pass\n",
             (G,), CH6),
    Mutation("rel-error-norm-of-sum",
             "relative_error divides by ||a + b|| instead of ||a|| + ||b||",
             "gradcheck.py",
             "max(np.linalg.norm(a) + np.linalg.norm(b), floor)",
             "max(np.linalg.norm(a + b), floor)",
             (G,), CH6),
    # ---------------------------------------------------------------- optim.py
    Mutation("sgd-ascent",
             "SGD steps up the gradient: w <- w + lr g",
             "optim.py",
             "    def _update(self, i, p, g):\n        p -= self.lr * g\n",
             "    def _update(self, i, p, g):\n        p += self.lr * g\n",
             (O,), CH10),
    Mutation("momentum-sign",
             "Momentum: v <- mu v + lr g",
             "optim.py",
             "        v -= self.lr * g\n",
             "        v += self.lr * g\n",
             (O,), CH10),
    Mutation("rmsprop-no-sqrt",
             "RMSprop divides by s + eps, the square root forgotten",
             "optim.py",
             "p -= self.lr * g / (np.sqrt(s) + self.eps)",
             "p -= self.lr * g / (s + self.eps)",
             (O,), CH10),
    Mutation("adam-no-bias-correction",
             "Adam without bias correction: m_hat = m, v_hat = v",
             "optim.py",
             "        m_hat = m / (1 - self.beta1 ** self.t)\n"
             "        v_hat = v / (1 - self.beta2 ** self.t)\n",
             "        m_hat = m\n        v_hat = v\n",
             (O,), CH10),
]


#: Mutations that a chapter's check cells do not catch yet (reported to the
#: chapter's author; the package tests do catch them). The test marks them as
#: expected failures naming the weak check, and fails once the chapter catches
#: the mutation, so that the entry is removed. Never add an entry to make the
#: suite pass: strengthen the check instead.
CHAPTER_SURVIVORS: dict[str, str] = {}


# --------------------------------------------------------------- copies

def occurrences(mutation: Mutation, package: Path = PACKAGE) -> int:
    return (package / mutation.file).read_text().count(mutation.old)


def make_copy(dest: Path, mutation: Mutation | None = None) -> Path:
    """Copy backprop/ into ``dest``/backprop, with ``mutation`` applied; return dest."""
    shutil.copytree(PACKAGE, dest / "backprop",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if mutation is not None:
        path = dest / "backprop" / mutation.file
        text = path.read_text()
        count = text.count(mutation.old)
        if count != 1:
            raise AssertionError(
                f"mutation {mutation.id}: the text to replace occurs {count} times in "
                f"backprop/{mutation.file} (expected once); update tests/mutations.py")
        path.write_text(text.replace(mutation.old, mutation.new))
    # a pytest plugin that records which backprop the test run imported
    (dest / "_mutation_guard.py").write_text(
        "import os\nimport backprop\n\n"
        "with open(os.environ['MUTATION_GUARD_OUT'], 'w') as f:\n"
        "    f.write(os.path.realpath(backprop.__file__))\n")
    return dest


def _env(copy: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    return env


def _check_imported(copy: Path, reported: str, where: str) -> None:
    expected = os.path.realpath(copy / "backprop" / "__init__.py")
    if reported.strip() != expected:
        raise AssertionError(f"{where} imported {reported.strip()!r}, "
                             f"not the copy {expected}")


# --------------------------------------------------------------- package tests

@dataclass
class PackageRun:
    returncode: int
    failed: list        # node ids of failed tests
    output: str


def start_package_tests(copy: Path, tests, stop_first: bool = True):
    """Start pytest on ``tests`` (files in tests/) against the copy, in a
    subprocess; returns a handle for :func:`finish_package_tests`."""
    guard = copy / f"imported-{len(list(copy.glob('imported-*')))}.txt"
    env = _env(copy)
    env["MUTATION_GUARD_OUT"] = str(guard)
    cmd = [sys.executable, "-m", "pytest", *[str(TESTS / t) for t in tests], "-q",
           "-p", "no:cacheprovider", "-p", "_mutation_guard", "-p", "no:xdist",
           "-o", "addopts=", "--rootdir", str(ROOT), "-rf"]
    if stop_first:
        cmd.append("-x")
    proc = subprocess.Popen(cmd, cwd=copy, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    return proc, guard, copy


def finish_package_tests(handle, timeout: float = 300) -> PackageRun:
    proc, guard, copy = handle
    out, _ = proc.communicate(timeout=timeout)
    if not guard.is_file():
        raise AssertionError("the package tests did not start (no import "
                             f"record):\n{out[-3000:]}")
    _check_imported(copy, guard.read_text(), "the package tests")
    failed = [f.split("tests/")[-1]
              for f in re.findall(r"^FAILED (\S+)", out, re.M)]
    return PackageRun(proc.returncode, failed, out)


# --------------------------------------------------------------- chapters

@dataclass
class ChapterRun:
    n_cells: int
    failed_cell: int | None     # index among the code cells; None if all passed
    source: str                 # the failing cell's source
    error: str                  # "Name: message" of its exception

    @property
    def checks(self) -> str:
        m = re.search(r"^\s*#\s*checks:\s*(.+)$", self.source, re.M)
        return m.group(1).strip() if m else ""

    def describe(self) -> str:
        if self.failed_cell is None:
            return "all cells passed"
        what = f"checks: {self.checks}" if self.checks else (
            "asserting cell" if "assert" in self.source else "cell without assert")
        return f"code cell {self.failed_cell} ({what}): {self.error[:200]}"


def run_chapter(copy: Path, chapter: str, stop_after: int | None = None,
                timeout: float = 180) -> ChapterRun:
    """Execute book/<chapter>.md with the copy on the import path, up to its first
    failing code cell, or up to code cell ``stop_after`` (cells tagged
    raises-exception may raise, as in the book build)."""
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbformat.v4 import new_code_cell

    nb = jupytext.read(ROOT / "book" / f"{chapter}.md")
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(copy)}})
    with client.setup_kernel(env=_env(copy), cwd=str(copy)):
        guard = new_code_cell("import os, backprop\n"
                              "print(os.path.realpath(backprop.__file__))")
        client.execute_cell(guard, -1)
        printed = "".join(o.get("text", "") for o in guard.outputs
                          if o.get("output_type") == "stream")
        _check_imported(copy, printed, f"the kernel of {chapter}")
        for k, (i, cell) in enumerate(code):
            if stop_after is not None and k > stop_after:
                break
            try:
                client.execute_cell(cell, i)
            except CellExecutionError as err:
                error = next((f"{o.ename}: {o.evalue}" for o in cell.outputs
                              if o.get("output_type") == "error"), str(err)[-300:])
                return ChapterRun(len(code), k, cell.source, error)
    return ChapterRun(len(code), None, "", "")


# --------------------------------------------------------------- controls

@functools.lru_cache(maxsize=None)
def control_copy() -> Path:
    """An unmutated copy of the package (removed when the process exits)."""
    path = Path(tempfile.mkdtemp(prefix="mutation-control-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return make_copy(path)


@functools.lru_cache(maxsize=None)
def control_package_tests(tests: tuple) -> PackageRun:
    """The unmutated copy under the same package tests (all of them, no -x)."""
    handle = start_package_tests(control_copy(), tests, stop_first=False)
    return finish_package_tests(handle)


#: chapter -> (code cells known to pass on the unmutated copy, first failing cell)
_CONTROL: dict = {}


def control_chapter(chapter: str, through: int) -> ChapterRun | None:
    """Run the unmutated chapter far enough to know whether code cells 0..``through``
    pass. Returns None if they do, else the control's failing run (the chapter is
    broken without any mutation). Runs again only when asked for a later cell."""
    passed, failure = _CONTROL.get(chapter, (-1, None))
    if failure is not None and failure.failed_cell <= through:
        return failure
    if passed >= through:
        return None
    run = run_chapter(control_copy(), chapter, stop_after=through)
    if run.failed_cell is None:
        _CONTROL[chapter] = (through, None)
        return None
    _CONTROL[chapter] = (run.failed_cell - 1, run)
    return run if run.failed_cell <= through else None


def all_test_files() -> tuple:
    return tuple(sorted({t for m in MUTATIONS for t in m.tests}))
