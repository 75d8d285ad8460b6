"""The course's math in its own names: the neuron, the week-4 networks, the layered
forward/backward, the optimizers. Pure NumPy, no I/O."""
