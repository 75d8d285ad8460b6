"""page/run_figures.py: the learning curve is drawn from the run's costs."""

import io

import numpy as np
from PIL import Image
from rendered import C0

from pipeline.artifacts.params import load_params
from pipeline.page.run_figures import learning_curve_png


def test_the_learning_curve_is_drawn_from_the_costs(trained):
    params = dict(load_params(trained[0]))
    drawn = learning_curve_png(params)
    assert learning_curve_png(params) == drawn  # the same run, the same picture
    params["costs"] = params["costs"][::-1].copy()  # a cost that rises instead
    rising = learning_curve_png(params)
    assert rising != drawn
    before = np.asarray(Image.open(io.BytesIO(drawn)).convert("RGB"))
    after = np.asarray(Image.open(io.BytesIO(rising)).convert("RGB"))
    ys, xs = np.nonzero((np.hsplit(after, 2)[0] == C0).all(axis=-1))
    assert ys[xs < xs.min() + 20].mean() - ys[xs > xs.max() - 20].mean() > 100  # now it rises
    assert not np.array_equal(np.hsplit(before, 2)[0], np.hsplit(after, 2)[0])


def test_a_minibatch_curve_says_its_training_points_are_running_means(trained, monkeypatch):
    import pipeline.page.run_figures as run_figures

    labels = []

    def recording(plot, key):
        def wrapper(*args, **kwargs):
            labels.append(kwargs.get(key))
            return plot(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(run_figures, "plot_costs", recording(run_figures.plot_costs, "label"))
    monkeypatch.setattr(run_figures, "plot_accuracies",
                        recording(run_figures.plot_accuracies, "train_label"))
    params = dict(load_params(trained[0]))
    gd = learning_curve_png(params)
    assert labels == [None, "train"]  # the course's gd curve: every 100 iterations, as it was
    labels.clear()
    adam = learning_curve_png({**params, "optimizer": "adam"})
    assert labels == [run_figures.RUNNING_MEAN] * 2
    assert adam != gd
