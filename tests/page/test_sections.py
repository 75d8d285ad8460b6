"""page/sections.py: the template's values."""

import pytest


def test_a_template_value_missing_is_named_not_asserted():
    from pipeline.page.sections import fill

    assert fill("<p>{{a}}</p>", {"a": "{{b}}"}) == "<p>{{b}}</p>"
    with pytest.raises(ValueError, match="no value for b, c"):
        fill("{{a}} {{c}} {{b}}", {"a": 1})
