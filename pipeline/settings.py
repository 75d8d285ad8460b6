"""A run's settings as one frozen value: built once from the command line (stages/options.py),
passed to the fit, written into params.npz and read back from it.

The fields below are the one list of settings. Every record (params.npz, metrics.json, compare's
and cv's summaries), its checks and the page's table derive from them: a new setting is one
new field here, with its default in config.py.
"""

from collections.abc import Mapping, Sequence
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from typing import Any, get_origin

import numpy as np

from pipeline import config


def setting(label: str, *, short: str | None = None, key: str | None = None,
            when: str | None = None) -> dict[str, str | None]:
    """The metadata of a setting: its label on the page (short: in a terminal's table), its key
    in a record when that is not the field's name, and when it matters ("minibatch": mini-batch
    optimizers only; "network": the networks only; "cnn": the convolutional network only; None:
    always)."""
    return {"label": label, "short": short or label, "key": key, "when": when}


@dataclass(frozen=True)
class Optimizer:
    """gd (the course's full batch), or the second course's minibatch or adam."""

    name: str = field(default=config.OPTIMIZER,
                      metadata=setting("optimizer", short="opt", key="optimizer"))
    mini_batch_size: int = field(default=0, metadata=setting(  # 0 for gd
        "mini-batch size", short="batch", when="minibatch"))
    num_epochs: int = field(default=0, metadata=setting(  # 0 for gd
        "epochs", when="minibatch"))
    beta1: float = field(default=config.BETA1, metadata=setting("beta1", when="adam"))
    beta2: float = field(default=config.BETA2, metadata=setting("beta2", when="adam"))
    epsilon: float = field(default=config.EPSILON, metadata=setting("epsilon", when="adam"))
    seed: int = field(default=config.MINIBATCH_SEED, metadata=setting(
        "shuffle seed", short="shuffle", key="minibatch_seed", when="minibatch"))
    beta: float = field(default=config.BETA, metadata=setting("momentum beta", short="beta",
                                                              when="momentum"))
    decay: str = field(default=config.DECAY, metadata=setting(
        "learning-rate decay", short="decay", when="minibatch"))
    decay_rate: float = field(default=config.DECAY_RATE, metadata=setting(
        "decay rate", when="decay"))
    decay_interval: int = field(default=config.DECAY_INTERVAL, metadata=setting(
        "decay interval (epochs)", short="interval", when="scheduled"))

    @property
    def minibatch(self) -> bool:
        return self.name != "gd"

    @property
    def unit(self) -> str:
        """What a learning curve counts: gd's iterations, or a mini-batch optimizer's epochs."""
        return "epoch" if self.minibatch else "iteration"


@dataclass(frozen=True)
class Settings:
    """One model's run. For gd num_iterations is the steps asked for; for mini-batches the
    steps taken (epochs x batches), which the fit tells once it has the data."""

    model: str = field(metadata=setting("model"))  # logistic, two-layer, l-layer or cnn
    # (n_x, hidden..., 1); a CNN's: n_x, the units after each convolution and pool, 1
    layer_dims: tuple[int, ...] = field(metadata=setting("layers"))
    learning_rate: float = field(metadata=setting("learning rate", short="lr"))
    num_iterations: int = field(metadata=setting("iterations", short="steps"))
    l2: float = field(default=config.L2, metadata=setting("L2 lambda", short="l2"))  # b unpenalized
    augment: str = field(default=config.AUGMENT, metadata=setting("augmentation", short="augment"))
    optimizer: Optimizer = field(default_factory=Optimizer, metadata=setting("optimizer"))
    seed: int = field(default=config.NETWORK_SEED, metadata=setting(
        "initialization seed", short="init seed", key="network_seed", when="network"))
    init: str = field(default=config.INIT, metadata=setting("initialization", short="init",
                                                            when="network"))
    keep_prob: float = field(default=config.KEEP_PROB, metadata=setting(
        "dropout keep_prob", short="keep", when="network"))
    architecture: str = field(default="", metadata=setting(  # "4x8 p8 2x16 p4"; "" for no CNN
        "convolutions and pools", short="conv", when="cnn"))

    def record(self) -> dict[str, Any]:
        """The settings as plain values (lists for tuples) under record_keys(), in order."""
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in zip(RECORD_KEYS, self._values(), strict=True)}

    def shown(self) -> list[tuple[str, Any]]:
        """(label, value) of the settings that matter for this run, for a table."""
        return [(f.metadata["label"], value)
                for f, value in zip(SETTING_FIELDS, self._values(), strict=True)
                if self._applies(f)]

    def second_course_text(self) -> str:
        """', He's start, dropout keep_prob 0.86, beta 0.9, scheduled decay at rate 1.0': what the
        second course's tools add to this run, in words ('' for none), for train's line and the
        page."""
        o = self.optimizer
        return "".join([", He's start" if self.init == "he" else "",
                        f", dropout keep_prob {self.keep_prob}" if self.keep_prob < 1 else "",
                        f", beta {o.beta}" if o.name == "momentum" else "",
                        f", {o.decay} decay at rate {o.decay_rate}"
                        if o.minibatch and o.decay != "none" else ""])

    def described(self) -> str:
        """'lr 0.005', or 'the l-layer network [12288, 20, 7, 5, 1], lr 0.0075' or 'the CNN 4x8
        p8 2x16 p4, lr 0.009', with its options: train's line."""
        model = "" if self.model == "logistic" else f"the CNN {self.architecture}, " \
            if self.model == "cnn" else f"the {self.model} network {list(self.layer_dims)}, "
        o = self.optimizer
        extras = "".join([f", l2 {self.l2}" if self.l2 else "",
                          ", mirrored images too" if self.augment == "flip" else "",
                          f", {o.name} on batches of {o.mini_batch_size}" if o.minibatch else "",
                          self.second_course_text()])
        return f"{model}lr {self.learning_rate}{extras}"

    def that_matter(self) -> dict[str, Any]:
        """record() without the settings this run never reads (a decay rate without decay,
        Adam's betas for momentum, ...): what decides its weights, for a run's id."""
        return {key: value for (key, value), f in zip(self.record().items(), SETTING_FIELDS,
                                                      strict=True) if self._applies(f)}

    def _applies(self, f: Field[Any]) -> bool:
        """Whether the setting of field f matters for this run (its metadata's "when")."""
        o = self.optimizer
        return {None: True, "minibatch": o.minibatch, "network": self.model != "logistic",
                "cnn": self.model == "cnn",
                "momentum": o.name == "momentum", "adam": o.name == "adam",
                "decay": o.minibatch and o.decay != "none",
                "scheduled": o.decay == "scheduled"}[f.metadata["when"]]

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> "Settings":
        """The settings back from params.npz (arrays), or from plain values under record_keys()."""
        def values(kind: type) -> dict[str, Any]:
            return {f.name: convert(f.type, record[record_key(f)]) for f in fields(kind)
                    if f.type is not Optimizer}

        return cls(**values(cls), optimizer=Optimizer(**values(Optimizer)))

    def _values(self) -> list[Any]:
        """Every setting's value, in SETTING_FIELDS' order."""
        return [getattr(self.optimizer if f in OPTIMIZER_FIELDS else self, f.name)
                for f in SETTING_FIELDS]


def record_key(f: Field[Any]) -> str:
    return str(f.metadata["key"] or f.name)


# the NumPy dtype kinds a record may hold each type as
KINDS: dict[type, str] = {str: "U", int: "iu", float: "iuf"}


def convert(kind: object, value: object) -> object:
    """A record's value (a NumPy array or a plain value) as the field's type (kind: its
    annotation, tuple[int, ...] or a key of KINDS); ValueError when it holds another kind of
    thing (a list for a name, text for a number, true for a count)."""
    array = np.asarray(value)
    if get_origin(kind) is tuple:
        if array.ndim != 1 or array.dtype.kind not in "iu":
            raise ValueError(f"{value!r} is not a list of whole numbers")
        return tuple(int(n) for n in array)
    if not isinstance(kind, type) or kind not in KINDS:
        raise TypeError(f"a record holds no {kind!r}: give it a dtype kind in KINDS")
    if array.ndim != 0 or array.dtype.kind not in KINDS[kind]:
        raise ValueError(f"{value!r} is not a {kind.__name__}")
    return kind(array.item())


# Every setting's field, the Optimizer's inlined where Settings holds it: the one list that
# records, their checks and tables walk.
OPTIMIZER_FIELDS = fields(Optimizer)
SETTING_FIELDS = tuple(g for f in fields(Settings)
                       for g in (OPTIMIZER_FIELDS if f.type is Optimizer else (f,)))


def record_defaults() -> dict[str, Any]:
    """The record's value of every setting that has a default: what a run recorded before that
    setting existed ran with (momentum's beta, no decay, the course's start, no dropout...)."""
    return {record_key(f): f.default for f in SETTING_FIELDS if f.default is not MISSING}


def record_types() -> dict[str, Any]:
    """Every record key and its type, in the order record() writes them."""
    return {record_key(f): f.type for f in SETTING_FIELDS}


def record_labels(kind: str = "label") -> dict[str, str]:
    """Every record key and its label ("learning rate"), or its short one ("lr": kind short)."""
    return {record_key(f): str(f.metadata[kind]) for f in SETTING_FIELDS}


RECORD_KEYS = tuple(record_types())  # the keys params.npz and metrics.json hold settings under


def course_run(model: str) -> tuple[float, int]:
    """The course's learning rate and gd iteration count for a model."""
    if model == "logistic":
        return config.LEARNING_RATE, config.NUM_ITERATIONS
    return config.NETWORK_LEARNING_RATE, config.NETWORK_NUM_ITERATIONS


@dataclass(frozen=True)
class Search:
    """Cross-validation's search: the grid's (or a random search's fixed) rates, l2s, keep_probs
    and augments, every candidate's model, start and optimizer, and the folds it is scored on."""

    model: str
    layer_dims: tuple[int, ...]  # (n_x, hidden..., 1)
    learning_rates: tuple[float, ...]
    l2s: tuple[float, ...]
    augments: tuple[str, ...]  # "none", "flip"
    num_iterations: int  # gd's longest run; candidates every CHECKPOINT_EVERY steps
    optimizer: Optimizer  # gd, or minibatch or adam with candidates after each epoch
    folds: int
    repeats: int
    seed: int
    keep_probs: tuple[float, ...] = (config.KEEP_PROB,)  # a network's dropout; 1 is off
    init: str = config.INIT  # a network's start, every candidate's and the final fit's
    architecture: str = ""  # the CNN's convolutions and pools; "" for the others

    def candidate(self, learning_rate: float, l2: float, augment: str, steps: int,
                  keep_prob: float = config.KEEP_PROB, *,
                  options: Mapping[str, float] | None = None) -> Settings:
        """The Settings of one candidate: gd for `steps` iterations, or a mini-batch optimizer
        for `steps` epochs; the search's init, the candidate's keep_prob and drawn options."""
        gd = not self.optimizer.minibatch
        optimizer = optimizer_with(self.optimizer, options or {})
        optimizer = replace(optimizer, num_epochs=0 if gd else steps,
                            mini_batch_size=0 if gd else optimizer.mini_batch_size)
        return Settings(model=self.model, layer_dims=layers_with(self.layer_dims, options or {}),
                        learning_rate=learning_rate, num_iterations=steps, l2=l2,
                        augment=augment, optimizer=optimizer, init=self.init,
                        keep_prob=keep_prob, architecture=self.architecture)


def optimizer_with(optimizer: Optimizer, options: Mapping[str, float]) -> Optimizer:
    """The optimizer with a random candidate's own beta, beta1, beta2 or mini_batch_size."""
    o = optimizer
    return replace(o, mini_batch_size=int(options.get("mini_batch_size", o.mini_batch_size)),
                   beta=options.get("beta", o.beta), beta1=options.get("beta1", o.beta1),
                   beta2=options.get("beta2", o.beta2))


def layers_with(layer_dims: Sequence[int], options: Mapping[str, float]) -> tuple[int, ...]:
    """layer_dims with a random candidate's own hidden sizes: hidden1 is layer_dims[1], ..."""
    return tuple(int(options.get(f"hidden{i}", n)) for i, n in enumerate(layer_dims))
