"""catvnoncat: cat vs non-cat with one logistic-regression neuron, as a pipeline of stages."""
