"""The dataset library, called as a notebook or another stage would: no argparse, no bar, no
print; progress and skipped photos through callbacks, and nothing written on an error."""

import h5py
import numpy as np
import pytest
from PIL import Image

from pipeline.artifacts.photo_dataset import (
    Recipe,
    photo_pool,
    plan_dataset,
    stratified_test_draw,
    to_decode,
    write_dataset,
)
from pipeline.errors import UserError


def photos(folder, count, seed):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)).save(
            folder / f"p{i:02}.png")


@pytest.fixture
def source(tmp_path):
    photos(tmp_path / "src" / "cat", 10, seed=1)
    photos(tmp_path / "src" / "other", 15, seed=2)
    (tmp_path / "src" / "cat" / "broken.png").write_bytes(b"\x89PNG not really")
    (tmp_path / "src" / "other" / "notes.txt").write_text("not a photo")
    return tmp_path / "src"


def test_plan_then_write_through_callbacks_printing_nothing(source, tmp_path, capsys):
    recipe = Recipe(size=8, seed=3)
    progress, skipped = [], []
    with photo_pool() as pool:
        plan = plan_dataset(source, recipe, pool)
        todo = to_decode(plan)
        assert plan.classes == ["other", "cat"] and len(plan.rows) == 27
        assert [len(todo["train"]), len(todo["test"])] == [9 + 12, 2 + 3]  # 20 % of 11, of 15
        kept, left = write_dataset(plan, tmp_path / "out", recipe, pool,
                                   on_progress=progress.append,
                                   on_skip=lambda path, why: skipped.append(path))
    assert sum(progress) == 26  # every photo decoded, the broken one too
    assert skipped == ["cat/broken.png"]
    assert capsys.readouterr() == ("", "")
    with h5py.File(tmp_path / "out" / "train.h5") as train, \
            h5py.File(tmp_path / "out" / "test.h5") as test:
        train_y, test_x = train["train_set_y"][()], test["test_set_x"][()]
    assert kept == {"train": 20, "test": 5} and left == 2  # broken.png and notes.txt
    assert [len(train_y), len(test_x)] == [20, 5]
    assert test_x.shape[1:] == (8, 8, 3) and sorted(set(train_y.tolist())) == [0, 1]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["manifest.csv", "test.h5",
                                                                  "train.h5"]


def test_too_few_usable_photos_is_a_user_error_and_nothing_is_written(tmp_path):
    photos(tmp_path / "src" / "cat", 1, seed=1)
    photos(tmp_path / "src" / "dog", 4, seed=2)
    with photo_pool() as pool:
        plan = plan_dataset(tmp_path / "src", Recipe(size=8), pool)
        with pytest.raises(UserError, match="class 'cat' has 1 usable photo"):
            write_dataset(plan, tmp_path / "out", Recipe(size=8), pool)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


@pytest.mark.parametrize(("count", "fraction", "tested"),
                         [(1, 0.2, 0), (2, 0.2, 1), (10, 0.2, 2), (10, 0.99, 9), (7, 0.5, 4)])
def test_the_draw_takes_the_share_but_leaves_one_to_train_and_one_to_test(count, fraction,
                                                                          tested):
    chosen = stratified_test_draw(count, fraction, np.random.default_rng(0))
    assert chosen.dtype == bool and len(chosen) == count and chosen.sum() == tested


def test_the_positive_class_is_named_or_a_folder_called_cat(tmp_path):
    photos(tmp_path / "src" / "dog", 3, seed=1)
    photos(tmp_path / "src" / "fox", 3, seed=2)
    with photo_pool() as pool:
        assert plan_dataset(tmp_path / "src", Recipe(positive="fox"), pool).classes == \
            ["dog", "fox"]
        with pytest.raises(UserError, match="name the positive one"):
            plan_dataset(tmp_path / "src", Recipe(), pool)
