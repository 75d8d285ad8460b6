"""make cv's options: the grid it searches by default, or SEARCH=random's ranges, made into a
Search (and, for a random search, the axes its candidates are drawn on)."""

from argparse import Namespace
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import NamedTuple, TypeVar

from pipeline import config
from pipeline.artifacts.files import available_memory
from pipeline.cli import UserError
from pipeline.cv.sampling import Axis, axis_of, ends
from pipeline.settings import Search
from pipeline.stages.options import layers_of, model_defaults, optimizer_of

# each searched setting's option, named in the errors
FLAGS = {"learning_rate": "--learning-rates", "l2": "--l2", "keep_prob": "--keep-prob",
         "beta": "--beta", "beta1": "--beta1", "beta2": "--beta2",
         "mini_batch_size": "--mini-batch-size"}


T = TypeVar("T")


class Span(NamedTuple):
    """A range lo..hi given for a random search."""

    low: float
    high: float


def or_range(kind: Callable[[str], T]) -> Callable[[str], T | Span]:
    """An argparse type: a value of `kind`, or a range lo..hi of two (each checked by kind)."""
    def parse(text: str) -> T | Span:
        if ".." not in text:
            return kind(text)
        low, _, high = text.partition("..")
        return Span(float(kind(low)), float(kind(high)))  # type: ignore[arg-type]

    return parse


def search_of(args: Namespace, shape: tuple[int, ...]
              ) -> tuple[Search, dict[str, Axis], list[str]]:
    """Cross-validation's Search from its options, with the defaults that depend on the data's
    size filled in; a random search's axes ({} for the grid); and what was chosen, in words."""
    m, large, notes = shape[1], shape[1] > config.CV_LARGE_M, []
    random = args.search == "random"
    if not random and (args.trials is not None or args.zoom):
        raise UserError(f"--{'trials' if args.trials is not None else 'zoom'} is a random "
                        "search's: add --search random (make cv SEARCH=random)")
    _, init, epochs = model_defaults(args)
    optimizer = args.optimizer or (config.CNN_OPTIMIZER if args.model == "cnn"
                                   else "adam" if large else "gd")
    axes = random_axes(args, optimizer) if random else {}
    args = fixed(args, axes)
    if args.optimizer is None and large and args.model != "cnn":
        notes.append(f"{m} training images: adam ({epochs} epochs, batches of "
                     f"{args.mini_batch_size}) instead of gd, so that it takes minutes "
                     "(--optimizer gd to insist)")
    repeats = args.repeats
    if repeats is None:
        once = f"{m} training images" if large else "a random search" if random else \
            "the CNN" if args.model == "cnn" else ""
        repeats = 1 if once else config.CV_REPEATS
        if once:
            notes.append(f"{once}: 1 repeat of the folds (--repeats to change)")
    rates = args.learning_rates if args.learning_rates is not None else list(
        config.CV_LEARNING_RATES if optimizer == "gd" and args.model == "logistic"
        else config.CV_NETWORK_LEARNING_RATES if optimizer == "gd"
        else config.CV_CNN_LEARNING_RATES if args.model == "cnn"
        else config.CV_MINIBATCH_LEARNING_RATES)
    if optimizer != "gd" and args.augment != ["none"]:
        raise UserError("--augment flip is searched with --optimizer gd only")
    gram_bytes = (2 if "flip" in args.augment else 1) ** 2 * m * m * 8
    if optimizer == "gd" and gram_bytes > available_memory() / 2:
        raise UserError(f"gd cross-validation on {m} images builds a {gram_bytes / 1e9:.1f} GB "
                        "Gram matrix, more than half the memory free: use --optimizer adam")
    layer_dims, architecture = layers_of(args, shape[0])
    search = Search(model=args.model, layer_dims=tuple(layer_dims), architecture=architecture,
                    learning_rates=tuple(rates), l2s=tuple(args.l2),
                    augments=tuple(args.augment), num_iterations=args.num_iterations,
                    optimizer=replace(optimizer_of(args, optimizer, epochs),
                                      mini_batch_size=args.mini_batch_size, num_epochs=epochs),
                    folds=args.folds, repeats=repeats, seed=args.seed,
                    keep_probs=tuple(args.keep_prob), init=init)
    if optimizer == "gd":
        check_gd_memory(search, axes, args.trials or config.CV_TRIALS if random else None, m)
    return search, axes, notes


def check_gd_memory(search: Search, axes: Mapping[str, Axis], trials: int | None, m: int
                    ) -> None:
    """Refuse, before anything is allocated, a gd search whose candidates would not fit: they
    train at once, each (repeat, fold, candidate) a row of (width, M) arrays, width being the
    hidden units (1 for the neuron; a drawn size at its range's top) and M the images."""
    hidden = list(search.layer_dims[1:-1])
    for name, axis in axes.items():
        if name.startswith("hidden"):
            hidden[int(name.removeprefix("hidden")) - 1] = int(ends(axis)[1])
    candidates = trials or len(search.learning_rates) * len(search.l2s) * len(search.keep_probs)
    M = m * (2 if "flip" in search.augments else 1)
    rows = candidates * search.folds * search.repeats
    need = config.CV_ROW_ARRAYS * rows * max(1, sum(hidden)) * M * 8
    free = available_memory()
    if need > free / 2:
        fewer = "fewer --learning-rates, --l2 or --keep-prob values" if trials is None else \
            "lower --trials (make cv TRIALS=...)"
        repeats = f"{search.repeats} repeat{'s' if search.repeats > 1 else ''}"
        units = f" of {sum(hidden)} hidden units" if hidden else ""
        raise UserError(f"gd cross-validation of {candidates} candidates{units} x {search.folds} "
                        f"folds x {repeats} would hold about {need / 1e9:.1f} GB, more than half "
                        f"the memory free ({free / 1e9:.1f} GB): {fewer}"
                        f"{', smaller hidden layers' if hidden else ''} or --optimizer adam")


def random_axes(args: Namespace, optimizer: str) -> dict[str, Axis]:
    """The axes a random search draws on: each setting that applies to the model and optimizer,
    over its option's range lo..hi, else SEARCH_SPACE's range unless the option fixes it."""
    if len(args.augment) > 1:
        raise UserError(f"--augment {' '.join(args.augment)}: a random search takes one "
                        "augmentation (searching both is a grid's job)")
    applies = {"learning_rate": True, "l2": True, "keep_prob": args.model != "logistic",
               "beta": optimizer == "momentum", "beta1": optimizer == "adam",
               "beta2": optimizer == "adam", "mini_batch_size": optimizer != "gd"}
    axes = {}
    for name, flag in FLAGS.items():
        value = getattr(args, "learning_rates" if name == "learning_rate" else name)
        if isinstance(value, list):
            if len(value) > 1:
                raise UserError(f"{flag} {' '.join(map(str, value))}: a random search takes "
                                "one value (fixed) or a range lo..hi")
            value = value[0] if value else None
        if not applies[name]:
            if isinstance(value, Span):
                raise UserError(f"{flag} {value.low!r}..{value.high!r}: {name} is not "
                                f"searched for {args.model} with {optimizer}")
            continue
        span = value if isinstance(value, Span) else \
            config.SEARCH_SPACE[name][1] if value is None else None
        if span is not None:
            axes[name] = checked_axis(name, flag, *span)
    words = " ".join(args.layers or []).split()
    for layer, word in enumerate(words, start=1):
        low, dots, high = word.partition("..")
        if dots and args.model == "logistic":
            raise UserError("--layers: the logistic model has no hidden layer to search")
        if dots:
            axes[f"hidden{layer}"] = checked_axis(f"hidden{layer}", "--layers",
                                                  int(low), int(high))
    return axes


def checked_axis(name: str, flag: str, low: float, high: float) -> Axis:
    """axis_of, its ValueError as the option's one line."""
    try:
        return axis_of(name, low, high)
    except ValueError as err:
        raise UserError(f"{flag} {low!r}..{high!r}: {err}") from None


def fixed(args: Namespace, axes: Mapping[str, Axis]) -> Namespace:
    """The options with the grid's lists and the defaults filled in, and every range or searched
    setting at its default (each candidate's drawn value replaces it): what Search and its
    optimizer are made of. A range in the grid's options is refused here."""
    values = vars(args).copy()
    ranged = [name for name in ("learning_rates", "l2", "keep_prob", "beta", "beta1", "beta2",
                                "mini_batch_size")
              if any(isinstance(v, Span) for v in listed(values[name]))]
    if ranged and args.search != "random":
        raise UserError(f"--{ranged[0].replace('_', '-')}: a range lo..hi is for a random "
                        "search: add --search random (make cv SEARCH=random)")
    defaults = {"learning_rates": None, "l2": [config.L2], "keep_prob": [config.KEEP_PROB],
                "beta": None, "beta1": config.BETA1, "beta2": config.BETA2,
                "mini_batch_size": config.MINI_BATCH_SIZE}
    for name, default in defaults.items():
        key = "learning_rate" if name == "learning_rates" else name
        kept = [v for v in listed(values[name]) if not isinstance(v, Span)]
        if values[name] == []:  # given with no value: check_options says so
            continue
        if key in axes or not kept:
            values[name] = default
        elif isinstance(default, list) or name == "learning_rates":
            values[name] = kept
    if any(".." in text for text in args.layers or []):
        if args.search != "random":
            raise UserError("--layers: a range lo..hi is for a random search: add --search "
                            "random (make cv SEARCH=random)")
        values["layers"] = [" ".join(word.partition("..")[0] for word in text.split())
                            for text in args.layers]  # a searched size: its drawn value
    return Namespace(**values)


def listed(value: object) -> list[object]:
    """An option's values as a list ([] for None)."""
    return value if isinstance(value, list) else [] if value is None else [value]
