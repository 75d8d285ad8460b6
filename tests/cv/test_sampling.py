"""cv/sampling.py and cv/summary.importance: a random search's draws are seeded, on each
setting's scale and inside its range; ZOOM's region holds the best and stays inside the first;
each setting's share of the accuracy's spread finds the one that matters."""

import math

import numpy as np
import pytest

from pipeline import config
from pipeline.cv.render import candidate_name
from pipeline.cv.sampling import axis_of, draw, ends, u_of, value_at, zoomed
from pipeline.cv.summary import importance

DEFAULT = {name: axis_of(name, *span) for name, (_, span) in config.SEARCH_SPACE.items()
           if span is not None}


def test_the_same_seed_draws_the_same_candidates_and_another_seed_others():
    assert draw(DEFAULT, 20, 0) == draw(DEFAULT, 20, 0)
    assert draw(DEFAULT, 20, 0) != draw(DEFAULT, 20, 1)
    assert len(draw(DEFAULT, 20, 0)) == 20 and set(draw(DEFAULT, 1, 0)[0]) == set(DEFAULT)


def test_a_rate_is_log_uniform_every_decade_alike():
    rates = np.array([c["learning_rate"] for c in draw(DEFAULT, 6000, 3)])
    assert rates.min() >= 1e-4 and rates.max() <= 1e-1
    shares = [np.mean((rates >= 10.0 ** k) & (rates < 10.0 ** (k + 1))) for k in (-4, -3, -2)]
    assert shares == pytest.approx([1 / 3] * 3, abs=0.03)


def test_l2_from_zero_draws_zero_in_one_decade_of_five_and_the_rest_on_a_log_scale():
    l2 = np.array([c["l2"] for c in draw(DEFAULT, 6000, 4)])
    assert np.mean(l2 == 0) == pytest.approx(1 / (config.L2_DECADES + 1), abs=0.03)
    positive = l2[l2 > 0]
    assert positive.min() >= 1e-3 and positive.max() <= 10
    assert np.mean(positive < 1e-2) == pytest.approx(1 / config.L2_DECADES, abs=0.03)


def test_a_beta_is_drawn_as_one_minus_a_log_uniform_value():
    axes = {"beta": axis_of("beta", 0.9, 0.999)}
    betas = np.array([c["beta"] for c in draw(axes, 6000, 5)])
    assert betas.min() >= 0.9 and betas.max() <= 0.999
    assert np.mean(betas >= 0.99) == pytest.approx(0.5, abs=0.03)  # as many as in 0.9..0.99


def test_keep_prob_is_uniform_batch_sizes_are_powers_of_two_and_layer_sizes_whole():
    axes = {"keep_prob": axis_of("keep_prob", 0.5, 1.0),
            "mini_batch_size": axis_of("mini_batch_size", 10, 300),
            "hidden1": axis_of("hidden1", 2, 64)}
    drawn = draw(axes, 4000, 6)
    keep = np.array([c["keep_prob"] for c in drawn])
    assert keep.min() >= 0.5 and keep.max() <= 1 and keep.mean() == pytest.approx(0.75, abs=0.02)
    sizes = [c["mini_batch_size"] for c in drawn]
    assert set(sizes) == {16, 32, 64, 128, 256}
    assert max(sizes.count(s) for s in set(sizes)) < 1.2 * min(sizes.count(s) for s in set(sizes))
    hidden = [c["hidden1"] for c in drawn]
    assert all(h == int(h) and 2 <= h <= 64 for h in hidden)


def test_a_drawn_value_is_printed_as_it_is_so_a_run_can_be_typed_again():
    axes = {**DEFAULT, "beta2": axis_of("beta2", 0.99, 0.9999)}  # 1 - 0.000364, not "1"
    for candidate in draw(axes, 50, 7):
        printed = candidate_name(candidate, list(axes)).split(", ")
        assert [float(part.split()[1]) for part in printed] == list(candidate.values())
        assert all(len(part.split()[1]) <= 8 for part in printed)  # 0.999636 at most


@pytest.mark.parametrize("name, low, high, words", [
    ("learning_rate", 0.1, 0.01, "reversed"),
    ("keep_prob", 0.8, 0.8, "empty"),
    ("mini_batch_size", 65, 100, "no power of 2"),
])
def test_a_range_with_nothing_to_draw_is_refused_in_one_sentence(name, low, high, words):
    with pytest.raises(ValueError, match=words):
        axis_of(name, low, high)


def test_every_axis_maps_its_values_back_to_their_place():
    for name, axis in DEFAULT.items():
        for u in np.linspace(axis.low, axis.high, 7):
            value = value_at(axis, float(u))
            if value:  # 0 sits mid-way in its decade
                assert value_at(axis, u_of(axis, value)) == pytest.approx(value, rel=1e-9)
        low, high = ends(axis)
        assert (low, high) == pytest.approx(config.SEARCH_SPACE[name][1], rel=2e-3)


def test_the_zoomed_region_holds_the_best_and_stays_inside_the_first():
    axes = {"learning_rate": DEFAULT["learning_rate"], "keep_prob": DEFAULT["keep_prob"]}
    candidates = draw(axes, 50, 8)
    # the accuracy peaks at lr 0.003 (u = -2.5) whatever keep_prob is
    scores = np.array([80 - 10 * abs(math.log10(c["learning_rate"]) + 2.5) for c in candidates])
    scores[0] = np.nan  # a diverged candidate is left out
    region = zoomed(axes, candidates, scores)
    best = np.argsort(-np.nan_to_num(scores, nan=-1))[:10]
    rate = region["learning_rate"]
    assert axes["learning_rate"].low <= rate.low < rate.high <= axes["learning_rate"].high
    assert rate.high - rate.low < 0.6 * (axes["learning_rate"].high - axes["learning_rate"].low)
    for i in best:
        assert rate.low <= math.log10(candidates[i]["learning_rate"]) <= rate.high
    assert region["keep_prob"].low >= 0.5 and region["keep_prob"].high <= 1.0
    with pytest.raises(ValueError, match="diverged"):
        zoomed(axes, candidates, np.full(50, np.nan))


def test_importance_finds_the_setting_the_accuracy_follows():
    rng = np.random.default_rng(9)
    rows = [{"learning_rate": lr, "l2": l2, "val_accuracy_mean": 70 + 10 * np.log10(lr)
             + rng.normal(0, 0.5)} for lr, l2 in zip(10 ** rng.uniform(-4, -1, 60),
                                                    rng.uniform(0, 1, 60), strict=True)]
    rows.append({"learning_rate": 0.1, "l2": 0.5, "val_accuracy_mean": None})  # diverged
    shares = importance(rows, ["learning_rate", "l2"], {"learning_rate": "log", "l2": "log"})
    assert shares["learning_rate"] > 0.8 > 0.2 > shares["l2"]
    grid = [{"learning_rate": lr, "val_accuracy_mean": acc}
            for lr, acc in ((0.1, 60.0), (0.1, 62.0), (0.01, 70.0), (0.01, 72.0))]
    # grid levels: between 4 * 5^2 = 100 of a total 104
    assert importance(grid, ["learning_rate"], {}) == {"learning_rate": pytest.approx(100 / 104)}
    flat = [{"learning_rate": 0.1, "val_accuracy_mean": 65.0}] * 3
    assert importance(flat, ["learning_rate"], {}) == {}
    # 9 drawn candidates: fewer than two a group, so no drawn setting is credited with it all
    assert importance(rows[:9], ["learning_rate", "l2"], {"learning_rate": "log", "l2": "log"}) \
        == {}
    assert len(importance(rows[:10], ["learning_rate"], {"learning_rate": "log"})) == 1
