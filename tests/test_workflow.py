"""The GitHub Actions workflow that forks run (.github/workflows/ci.yml) is valid:
actionlint checks its syntax, expressions, action versions and shell steps. It cannot
run here (no GitHub); this is the check that it would."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def actionlint():
    exe = Path(sys.executable).parent / "actionlint"
    found = str(exe) if exe.exists() else shutil.which("actionlint")
    if found is None:
        pytest.fail("actionlint is not installed: pip install -r requirements.txt")
    return found


def run(path):
    return subprocess.run([actionlint(), "-no-color", str(path)],
                          capture_output=True, text=True, timeout=60)


def test_workflow_passes_actionlint():
    result = run(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_runs_the_projects_ci_and_publishes_the_book():
    text = WORKFLOW.read_text()
    assert "bash .ci/run" in text
    assert "upload-pages-artifact" in text and "deploy-pages" in text
    assert "path: _build/html" in text


def test_actionlint_rejects_a_broken_workflow(tmp_path):
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(WORKFLOW.read_text().replace("runs-on: ubuntu-24.04",
                                                "runs-on: ${{ matrix.os }}", 1))
    result = run(bad)
    assert result.returncode != 0 and "matrix" in result.stdout
