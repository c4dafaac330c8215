"""backprop.plotting.translated: the Chinese edition's copy of a figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from backprop import plotting  # noqa: E402


@pytest.fixture
def fig():
    f, ax = plt.subplots()
    ax.plot([0, 1], [1, 0], label="training loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("$E$")
    ax.set_title("loss over time")
    ax.legend()
    yield f
    plt.close(f)


def texts(f):
    return {t.get_text() for t in f.findobj(Text) if t.get_text()}


def test_words_are_replaced_in_a_copy_and_symbols_kept(fig):
    zh = plotting.translated(fig, {"epoch": "轮次", "training loss": "训练损失",
                                   "loss over time": "损失随时间的变化"})
    assert {"轮次", "训练损失", "损失随时间的变化", "$E$"} <= texts(zh)
    assert not {"epoch", "training loss", "loss over time"} & texts(zh)
    assert {"epoch", "training loss", "$E$"} <= texts(fig)      # untouched
    label = next(t for t in zh.findobj(Text) if t.get_text() == "轮次")
    assert label.get_fontfamily()[0] in plotting.CJK_FONTS
    zh.canvas.draw()      # renders without a missing-glyph failure
    assert len(plt.get_fignums()) == 1           # only the original is open


def test_a_word_the_figure_lacks_is_an_error(fig):
    with pytest.raises(KeyError, match="epochs"):
        plotting.translated(fig, {"epochs": "轮次"})


def test_words_must_map_strings_to_strings(fig):
    with pytest.raises(TypeError):
        plotting.translated(fig, [("epoch", "轮次")])
    with pytest.raises(TypeError):
        plotting.translated(fig, {"epoch": 3})


def test_tick_labels_stay_translated_when_the_figure_is_drawn():
    f, ax = plt.subplots()
    ax.bar([0, 1], [1, 2])
    ax.set_xticks([0, 1], ["batch norm", "layer norm"])
    zh = plotting.translated(f, {"batch norm": "批归一化", "layer norm": "层归一化"})
    zh.canvas.draw()
    assert [t.get_text() for t in zh.axes[0].get_xticklabels()] == [
        "批归一化", "层归一化"]
    f.canvas.draw()
    assert [t.get_text() for t in f.axes[0].get_xticklabels()] == [
        "batch norm", "layer norm"]
    plt.close(f)
    plt.close(zh)
