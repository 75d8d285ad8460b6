"""A run's settings as one frozen value: built once from the command line (stages/options.py),
passed to the fit, written into params.npz and read back from it. metrics.json copies the
model's part (model to optimizer) for the page."""

from dataclasses import dataclass, field

# The keys params.npz holds them under, in the order written.
RECORD_KEYS = ("model", "layer_dims", "learning_rate", "num_iterations", "l2", "augment",
               "optimizer", "mini_batch_size", "num_epochs", "beta1", "beta2")


@dataclass(frozen=True)
class Optimizer:
    """gd (the course's full batch), or the second course's minibatch or adam."""

    name: str = "gd"
    mini_batch_size: int = 0  # images a step; 0 for gd
    num_epochs: int = 0  # passes over the training set; 0 for gd
    beta1: float = 0.9  # Adam's first-moment decay
    beta2: float = 0.999  # Adam's second-moment decay

    @property
    def minibatch(self):
        return self.name != "gd"


@dataclass(frozen=True)
class Settings:
    """One model's run. For gd num_iterations is the steps asked for; for mini-batches the
    steps taken (epochs x batches), which the fit tells once it has the data."""

    model: str  # logistic, two-layer or l-layer
    layer_dims: tuple  # (n_x, hidden..., 1)
    learning_rate: float
    num_iterations: int
    l2: float = 0.0  # cost + l2/(2m) sum ||W||^2, b unpenalized
    augment: str = "none"  # or flip: each training image mirrored too
    optimizer: Optimizer = field(default_factory=Optimizer)

    def record(self):
        """The settings as params.npz holds them: plain values under RECORD_KEYS."""
        o = self.optimizer
        values = (self.model, list(self.layer_dims), self.learning_rate, self.num_iterations,
                  self.l2, self.augment, o.name, o.mini_batch_size, o.num_epochs, o.beta1,
                  o.beta2)
        return dict(zip(RECORD_KEYS, values, strict=True))

    @classmethod
    def from_record(cls, record):
        """The settings back from params.npz (arrays), or from plain values under RECORD_KEYS."""
        value = {key: record[key] for key in RECORD_KEYS}
        return cls(model=str(value["model"]),
                   layer_dims=tuple(int(n) for n in value["layer_dims"]),
                   learning_rate=float(value["learning_rate"]),
                   num_iterations=int(value["num_iterations"]), l2=float(value["l2"]),
                   augment=str(value["augment"]),
                   optimizer=Optimizer(str(value["optimizer"]), int(value["mini_batch_size"]),
                                       int(value["num_epochs"]), float(value["beta1"]),
                                       float(value["beta2"])))


@dataclass(frozen=True)
class Search:
    """Cross-validation's search: the grid of rates, l2s and augments, every candidate's model
    and optimizer, and the folds it is scored on."""

    model: str
    layer_dims: tuple  # (n_x, hidden..., 1)
    learning_rates: tuple
    l2s: tuple
    augments: tuple  # "none", "flip"
    num_iterations: int  # gd's longest run; candidates every CHECKPOINT_EVERY steps
    optimizer: Optimizer  # gd, or minibatch or adam with candidates after each epoch
    folds: int
    repeats: int
    seed: int
