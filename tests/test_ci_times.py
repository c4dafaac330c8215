"""tools/ci_times.py: the split of make test's time into its steps."""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import ci_times  # noqa: E402


def test_every_step_is_marked_in_the_makefile_and_named():
    """Each step the table names starts and ends in the Makefile, and the
    Makefile marks no step the table does not know."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    marked = re.findall(r"\$\(call mark,([\w-]+),(start|end)\)", makefile)
    marked += re.findall(r'echo "([\w-]+) (start|end) \$\$\(date', makefile)
    names = {step for step, _ in marked}
    assert names == set(ci_times.STEPS)
    for step in names:
        assert (step, "start") in marked and (step, "end") in marked, step


def test_report_splits_steps_and_test_groups(tmp_path):
    log = tmp_path / "times.log"
    log.write_text("venv start 100\nvenv end 160\n"
                   "build-en start 160\nbuild-en end 460\n"
                   "pytest start 460\n"
                   "build-en start 1000\nbuild-en end 1240\n"   # a rerun
                   "pytest end 760\n", encoding="utf-8")
    junit = tmp_path / "pytest.xml"
    junit.write_text(
        '<testsuites><testsuite>'
        '<testcase classname=".nbtest.book.01_activations.ipynb" time="150"/>'
        '<testcase classname="tests.test_rendered" name="a" time="30"/>'
        '<testcase classname="tests.test_rendered" name="b" time="30"/>'
        '<testcase classname="tests.test_network" time="90"/>'
        '</testsuite></testsuites>', encoding="utf-8")
    table = ci_times.report(log, junit)
    # the latest run of a step counts: 240 s, not 300 s or 540 s
    assert "| book: English HTML (executes every chapter) | 4 min 00 s | 40% |" \
        in table
    assert "| **all steps** | **10 min 00 s** | 100% |" in table
    # 300 s of worker time; pytest's 300 s of wall time shared in proportion
    assert "| nbval: every chapter as a notebook | 1 | 2 min 30 s | 2 min 30 s |" \
        in table
    assert "| browser: rendered pages in Chromium (test_rendered) | 2 | 1 min 00 s" \
        in table
    assert "| package: backprop (the rest) | 1 | 1 min 30 s |" in table


def test_a_malformed_or_unknown_step_is_an_error(tmp_path):
    log = tmp_path / "times.log"
    log.write_text("venv begins 100\n", encoding="utf-8")
    with pytest.raises(ValueError, match="expected '<step> start\\|end <time>'"):
        ci_times.read_log(log)
    log.write_text("lint start 1\nlint end 2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown steps \\['lint'\\]"):
        ci_times.report(log, None)
