"""The exact fast loops (the neuron's Gram and primal, the networks', the masked fold rows), the
one mini-batch loop over X's columns, and the one fit entry point every stage calls."""
