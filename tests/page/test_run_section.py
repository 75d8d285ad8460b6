"""The run's section: its lead names the model, its layers and the start it was trained from."""

import numpy as np

from pipeline.page.run_section import model_description, run_summary
from pipeline.settings import Optimizer, Settings


def test_the_lead_names_the_start_a_network_was_trained_from():
    dims = (12288, 20, 7, 5, 1)
    for init, start in (("course", "its seed-1 start"), ("he", "He's seed-1 start")):
        record = Settings("l-layer", dims, 0.0075, 2500, init=init).record()
        lead = model_description({**record, "layer_dims": np.array(dims)})
        assert lead.startswith("The course's L-layer network (12288 -> 20 -> 7 -> 5 -> 1: ")
        assert lead.endswith(f"trained from {start}")
    neuron = Settings("logistic", (12288, 1), 0.005, 2000).record()
    assert model_description({**neuron, "layer_dims": np.array([12288, 1])}) == (
        "Logistic regression (12288 -> 1) trained from zeros")


def test_the_summary_names_the_second_courses_tools_and_not_the_start_again():
    dims = (12288, 20, 7, 5, 1)
    tools = Settings("l-layer", dims, 0.0007, 40, init="he", keep_prob=0.86,
                     optimizer=Optimizer("momentum", 64, 10, decay="scheduled", decay_rate=0.5))
    params = {**tools.record(), "layer_dims": np.array(dims), "num_iterations": 40}
    assert model_description(params).endswith("trained from He's seed-1 start")
    assert run_summary(params) == ("10 epochs of momentum on batches of 64 (40 steps) at learning "
                                   "rate 0.0007, dropout keep_prob 0.86, beta 0.9, scheduled "
                                   "decay at rate 0.5")
