"""The dataset library, called as a notebook or another stage would: no argparse, no bar, no
print; progress and skipped photos through callbacks, and nothing written on an error."""

import hashlib

import h5py
import numpy as np
import pytest
from PIL import Image

from pipeline.artifacts import photo_dataset
from pipeline.artifacts.photo_dataset import (
    Recipe,
    in_batches,
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
        assert plan.classes == ["other", "cat"] and len(plan.paths) == 27
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


def test_the_pool_is_given_a_batch_of_tasks_at_a_time_and_answers_in_order(monkeypatch):
    monkeypatch.setattr(photo_dataset, "TASKS_AT_ONCE", 3)
    taken = []

    def items():
        for k in range(50):
            taken.append(k)
            yield k

    with photo_pool() as pool:
        answers = in_batches(pool, str, items(), chunk=2)
        assert next(answers) == "0" and len(taken) == 2 * 3 * 2  # 2 batches of 3 tasks of 2
        assert list(answers) == [str(k) for k in range(1, 50)]


def built(source, out, recipe):
    skipped = []
    with photo_pool() as pool:
        plan = plan_dataset(source, recipe, pool)
        write_dataset(plan, out, recipe, pool, on_skip=lambda path, why: skipped.append(path))
    return skipped, {name: hashlib.sha256((out / name).read_bytes()).hexdigest()
                     for name in ("train.h5", "test.h5", "manifest.csv")}


def test_photos_that_fail_inside_a_batch_are_each_one_skip_and_the_rest_is_as_unbatched(
        source, tmp_path, monkeypatch):
    for name in ("p02.png", "p10.png", "p09.png"):  # mid-task: train's 7th and 19th, test's 3rd
        (source / "other" / name).write_bytes(b"\x89PNG not really: " + name.encode())
    recipe = Recipe(size=8, seed=3)
    skipped, whole = built(source, tmp_path / "whole", recipe)  # every task in one batch
    monkeypatch.setattr(photo_dataset, "TASKS_AT_ONCE", 1)
    assert built(source, tmp_path / "batched", recipe) == (skipped, whole)
    assert skipped == ["cat/broken.png", "other/p02.png", "other/p10.png", "other/p09.png"]
