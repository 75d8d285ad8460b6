"""The exact fast loops (the neuron's Gram and primal, the networks', the masked fold rows) and
the one fit entry point every stage calls."""
