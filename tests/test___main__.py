"""`python -m pipeline`: the list of stages, and an unknown stage."""

import pytest
from helpers import run_cli

pytestmark = pytest.mark.portable  # numerical: run again on other kernels (make test-portable)


def test_stage_list_and_unknown_stage():
    assert "train" in run_cli("--help").stdout
    result = run_cli("fly")
    assert result.returncode == 2 and "unknown stage 'fly'" in result.stderr
