"""The ledger's tables: only the settings that differ, the current run marked, the page's
section the same size whatever the ledger's."""

from helpers import record_of

from pipeline.runs.render import differing, runs_table, section_fragment, side_by_side
from pipeline.settings import Optimizer, Settings, record_labels


def test_only_the_settings_that_differ_get_a_column_unless_all_are_asked_for():
    a = record_of("aaaaaaaaaaaa")
    b = {**record_of("bbbbbbbbbbbb"), "learning_rate": 0.01, "num_iterations": 1500}
    assert differing([a, b]) == ["learning_rate", "num_iterations"]
    assert "epsilon" in differing([a, b], every=True) and "model" not in differing([a], True)
    header, rows = runs_table([b, a], current="aaaaaaaaaaaa")
    assert header[5:7] == ("lr", "steps") and header[-4:] == ("train %", "test % (95% CI)",
                                                               "cost", "secs")
    assert [row[0] for row in rows] == ["", "*"]
    assert rows[0][1:7] == ("bbbbbb", "12-04 10:00", "aaaaaa", "logistic gd", "0.01", "1500")
    assert rows[1][-3] == "70.0 (55-82)"


def test_side_by_side_differences_are_the_last_run_minus_the_first():
    adam = Settings("logistic", (12288, 1), 0.0007, 40, optimizer=Optimizer("adam", 64, 10))
    a = record_of("aaaaaaaaaaaa", test_accuracy=70.0)
    b = {**record_of("bbbbbbbbbbbb", test_accuracy=64.0), **adam.record()}
    header, rows = side_by_side([a, b])
    assert header == ("", "aaaaaa", "bbbbbb", "difference")
    by_label = {row[0]: row[1:] for row in rows}
    assert by_label["optimizer"] == ("gd", "adam", "")
    assert by_label["test accuracy"] == ("70 %", "64 %", "-6 %")
    assert "model" not in by_label and "learning rate" in by_label


def test_the_pages_section_lists_twenty_runs_whatever_the_ledgers_size():
    records = [record_of(f"{i:012}", finished=f"2026-11-{1 + i:02}T10:00:00+00:00",
                         test_accuracy=50.0 + i) for i in range(25)][::-1]
    html = section_fragment(records, current=records[3]["id"])
    assert html.count("<tr>") == 1 + 20 and "5 older ones" in html
    assert "000000000024, the highest test accuracy" not in html  # short ids on the page
    assert "000000, the highest test accuracy (74.0 %)" in html
    assert section_fragment([], None).startswith("<p>No runs yet")


def test_a_setting_a_run_never_reads_neither_makes_a_column_nor_fills_one():
    """A decay rate without decay, Adam's beta1 for gd: no column of their own, and "-" in a
    column that other runs need."""
    adam = Settings("logistic", (12288, 1), 0.0007, 40, optimizer=Optimizer("adam", 64, 10))
    decayed = Settings("logistic", (12288, 1), 0.0007, 40,
                       optimizer=Optimizer("adam", 64, 10, decay="inverse", decay_rate=0.5))
    gd = {**record_of("aaaaaaaaaaaa"), "beta1": 0.5, "decay_rate": 3.0}  # read by no gd run
    plain = {**record_of("bbbbbbbbbbbb"), **adam.record(), "decay_rate": 7.0}  # no decay
    slowed = {**record_of("cccccccccccc"), **decayed.record()}
    assert "beta1" not in differing([gd, record_of("dddddddddddd")])
    assert differing([gd, record_of("dddddddddddd")]) == []
    keys = differing([plain, slowed])
    assert keys == ["decay"]  # the decay rate differs only where nothing decays
    keys = differing([gd, plain, slowed])
    assert "decay_rate" not in keys and "beta1" not in keys
    header, rows = runs_table([gd, plain, slowed], current=None)
    column = header.index(record_labels("short")["decay"])
    assert [row[column] for row in rows] == ["-", "none", "inverse"]
