"""cv/folds.py: folds are stratified and the seed repeats them; a validation image's mirror
never trains its own fold."""

import numpy as np
import pytest

from pipeline.cv.folds import grid_masks, stratified_folds

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


def test_a_validation_images_mirror_never_trains_its_own_fold():
    fold_of = stratified_folds(np.array([[0, 1] * 10]), folds=4, repeats=2, seed=1)
    train, val = grid_masks(fold_of, 4, 2, [False, True])
    m = fold_of.shape[1]
    assert train.shape == val.shape == (2 * 4 * 2, 2 * m)
    for row in range(train.shape[0]):
        validating = val[row, :m].astype(bool)
        assert validating.any() and not train[row, :m][validating].any()
        assert not train[row, m:][validating].any()  # their mirrors stay out too
        assert not val[row, m:].any()  # and mirrors are never validated on
        flips = row % 2 == 1
        assert (train[row, m:] == (train[row, :m] if flips else 0)).all()


@pytest.mark.parametrize("folds, repeats, seed", [(5, 10, 0), (3, 2, 9), (10, 1, 4)])
def test_folds_are_stratified_and_the_seed_repeats_them(features, folds, repeats, seed):
    Y = features["Y_train"]
    fold_of = stratified_folds(Y, folds, repeats, seed)
    assert fold_of.shape == (repeats, Y.shape[1])
    share = Y.mean()
    for r in range(repeats):
        sizes = np.bincount(fold_of[r], minlength=folds)
        assert sizes.max() - sizes.min() <= 1
        for f in range(folds):
            cats = Y[0, fold_of[r] == f].sum()
            assert abs(cats - share * sizes[f]) <= 1
    np.testing.assert_array_equal(fold_of, stratified_folds(Y, folds, repeats, seed))
    assert not np.array_equal(fold_of, stratified_folds(Y, folds, repeats, seed + 1))
