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
