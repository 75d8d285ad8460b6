"""The command-line options the training stages share (train, compare, cv), and the run's
settings made from them."""

from argparse import ArgumentParser, Namespace
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import config
from pipeline.artifacts.feature_file import Features
from pipeline.cli import (
    UserError,
    below_one,
    non_negative_float,
    positive_int,
    progress_bar,
    up_to_one,
)
from pipeline.engines.fit import total_steps
from pipeline.engines.logistic import ENGINES
from pipeline.nn import cnn
from pipeline.settings import Optimizer, Settings, course_run

if TYPE_CHECKING:  # tqdm is imported where a bar is made (cli.progress_bar)
    from tqdm import tqdm


def fit_progress(features: Features, settings: Settings, desc: str, quiet: bool,
                 k: int = 1) -> "tqdm":
    """The bar a stage shows over a fit of k rates: total_steps of them, in steps or batches."""
    unit = "batch" if settings.optimizer.minibatch else "it"
    return progress_bar(total_steps(features, settings, k), desc, quiet, unit=unit)


def add_model_options(parser: ArgumentParser, search: Callable[..., Any] | None = None
                      ) -> None:
    """--model and --layers: the architecture, with its start and dropout, for train, compare
    and cv (search: --keep-prob takes the several values cv searches, as --l2 does, each
    read by search(up_to_one))."""
    parser.add_argument("--model", choices=config.MODELS, default=config.MODEL,
                        help="one neuron, a week-4 network, or the convolutional network "
                             "(default %(default)s)")
    parser.add_argument("--layers", type=layer_token, nargs="+", metavar="N",
                        help="hidden layer sizes (default: two-layer 7, l-layer 20 7 5); for "
                             "cnn convolutions FxC and max-pools pF (default "
                             f"{config.CNN_ARCHITECTURE})")
    parser.add_argument("--init", choices=config.INITS, help="a network's start: the week-4 "
                        f"course's draw, or He's (default {config.INIT}; cnn {config.CNN_INIT})")
    if search:
        parser.add_argument("--keep-prob", type=search(up_to_one), nargs="*",
                            metavar="P", help="dropout keep_probs to search on a network's "
                            f"hidden layers; 1 is off (default {config.KEEP_PROB}; a random "
                            "search: a range lo..hi, or one value)")
        return
    parser.add_argument("--keep-prob", type=up_to_one, default=config.KEEP_PROB, metavar="P",
                        help="inverted dropout on a network's hidden layers while training; "
                             "1 is off (default %(default)s)")


def add_runs_option(parser: ArgumentParser) -> None:
    """--runs-dir: the ledger every finished fit is kept in (train, compare, cv)."""
    parser.add_argument("--runs-dir", type=Path, default=config.RUNS_DIR,
                        help="the ledger of runs (default %(default)s)")


def add_input_options(parser: ArgumentParser) -> None:
    """--features and --quiet, for every stage that reads the features and shows a bar."""
    parser.add_argument("--features", type=Path, default=config.FEATURES_FILE)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_training_options(parser: ArgumentParser) -> None:
    """What train and compare share: the model, its steps and regularization, the optimizer,
    the engine, the input."""
    add_model_options(parser)
    parser.add_argument("--num-iterations", type=positive_int, metavar="N",
                        help="gradient-descent steps (default: the course's for the model)")
    parser.add_argument("--l2", type=non_negative_float, default=config.L2, metavar="LAMBDA",
                        help="cost + LAMBDA/(2m) sum ||W||^2, b unpenalized (default %(default)s)")
    parser.add_argument("--augment", choices=config.AUGMENTS, default=config.AUGMENT,
                        help="flip: also train on each image mirrored (default %(default)s)")
    add_optimizer_options(parser, None, "gd: full batch, the course's run; "
                          "minibatch or adam: the second course's, for big data "
                          f"(default {config.OPTIMIZER}; cnn {config.CNN_OPTIMIZER})")
    parser.add_argument("--engine", choices=ENGINES, default=config.ENGINE,
                        help="how to run the steps; all give the textbook iterates "
                             "(default %(default)s)")
    add_input_options(parser)
    add_runs_option(parser)


def add_optimizer_options(parser: ArgumentParser, default: str | None, help_text: str,
                          read: Callable[..., Any] = lambda kind: kind) -> None:
    """--optimizer and its settings, for train, compare and cv (whose batch size and betas
    read(kind) reads: a value or a random search's range)."""
    parser.add_argument("--optimizer", choices=config.OPTIMIZERS, default=default,
                        help=help_text)
    parser.add_argument("--mini-batch-size", type=read(positive_int),
                        default=config.MINI_BATCH_SIZE, metavar="N",
                        help="images per step (default %(default)s)")
    parser.add_argument("--num-epochs", type=positive_int, metavar="N",
                        help=f"passes over the training set (default {config.NUM_EPOCHS}; cnn "
                             f"{config.CNN_NUM_EPOCHS})")
    parser.add_argument("--beta1", type=read(below_one), default=config.BETA1,
                        help="Adam's first-moment decay (default %(default)s)")
    parser.add_argument("--beta2", type=read(below_one), default=config.BETA2,
                        help="Adam's second-moment decay (default %(default)s)")
    parser.add_argument("--beta", type=read(below_one), metavar="BETA",
                        help=f"momentum's velocity decay (default {config.BETA})")
    parser.add_argument("--decay", choices=config.DECAYS, default=config.DECAY,
                        help="the rate once an epoch: inverse lr0/(1 + rate epoch) "
                             "(update_lr), scheduled lr0/(1 + rate floor(epoch/interval)) "
                             "(schedule_lr_decay) (default %(default)s)")
    parser.add_argument("--decay-rate", type=non_negative_float, default=config.DECAY_RATE,
                        metavar="RATE", help="(default %(default)s)")
    parser.add_argument("--decay-interval", type=positive_int, default=config.DECAY_INTERVAL,
                        metavar="EPOCHS", help="scheduled decay's step (default %(default)s)")


def layer_token(text: str) -> str:
    """An argument of --layers, its words each a hidden size (a whole number, at least 1), a
    random search's range of them (8..32) or a CNN's FxC or pF: "4x8 p8", quoted as one
    argument, is two words."""
    return " ".join(word if cnn.TOKEN.fullmatch(word) else "..".join(
        str(positive_int(end)) for end in word.split("..", 1)) for word in text.split() or [text])


def layers_of(args: Namespace, n_x: int) -> tuple[list[int], str]:
    """[n_x, hidden..., 1] for the chosen model, the course's hidden sizes unless --layers, and
    "" ; for the CNN n_x, the units after each convolution and pool, 1, and its architecture
    ("4x8 p8 2x16 p4", the course's unless --layers)."""
    text = " ".join(args.layers or [])
    if args.model == "cnn":
        try:
            architecture = cnn.read_architecture(text or config.CNN_ARCHITECTURE)
            return list(cnn.layer_sizes(architecture, n_x)), cnn.architecture_text(architecture)
        except ValueError as err:
            raise UserError(f"--layers {text or config.CNN_ARCHITECTURE}: {err}") from None
    if ".." in text:
        raise UserError(f"--layers {text}: a range lo..hi is searched by make cv SEARCH=random")
    if not text.replace(" ", "").isdigit() and text:
        raise UserError(f"--layers {text}: the {args.model} model takes hidden layer sizes; "
                        "convolutions FxC and pools pF are --model cnn's")
    if args.model == "logistic":
        if args.layers:
            raise UserError("--layers: the logistic model has no hidden layer; "
                            "choose --model two-layer or l-layer")
        return [n_x, 1], ""
    hidden = [int(n) for n in text.split()] or list(config.HIDDEN_LAYERS[args.model])
    if args.model == "two-layer" and len(hidden) != 1:
        raise UserError(f"--layers {' '.join(map(str, hidden))}: the two-layer network has one "
                        "hidden layer; give one size, or choose --model l-layer")
    return [n_x, *hidden, 1], ""


def settings_of(args: Namespace, n_x: int, learning_rate: float, num_iterations: int) -> Settings:
    """The run's settings from the options, with the model's and optimizer's own defaults
    (learning_rate and num_iterations: the stage's defaults for the one neuron with gd)."""
    name, init, epochs = model_defaults(args)
    network, gd = args.model != "logistic", name == "gd"
    if not gd and args.num_iterations is not None:
        raise UserError(f"--num-iterations is for gd; {name} counts --num-epochs")
    course_rate, course_iterations = course_run(args.model)  # a network's own
    if args.model == "cnn":
        learning_rate = config.CNN_LEARNING_RATE
    elif not gd:
        learning_rate = config.MINIBATCH_LEARNING_RATE
    elif network:
        learning_rate = course_rate
    if args.num_iterations is not None:
        num_iterations = args.num_iterations
    elif network:
        num_iterations = course_iterations
    layer_dims, architecture = layers_of(args, n_x)
    return Settings(model=args.model, layer_dims=tuple(layer_dims), learning_rate=learning_rate,
                    num_iterations=num_iterations, l2=args.l2, augment=args.augment,
                    optimizer=optimizer_of(args, name, epochs), init=init,
                    keep_prob=args.keep_prob, architecture=architecture)


def model_defaults(args: Namespace) -> tuple[str, str, int]:
    """(optimizer, init, epochs): the options', else the model's: the CNN's Adam, He's start
    (its only one) and CNN_NUM_EPOCHS; the others' gd, the course's start and NUM_EPOCHS."""
    if args.model != "cnn":
        return (args.optimizer or config.OPTIMIZER, args.init or config.INIT,
                args.num_epochs or config.NUM_EPOCHS)
    if args.optimizer == "gd":
        raise UserError("--optimizer gd: the CNN trains on mini-batches (adam, minibatch or "
                        "momentum), a batch at a time")
    if args.init not in (None, config.CNN_INIT):
        raise UserError(f"--init {args.init}: the CNN starts from He's draw, its only start")
    return (args.optimizer or config.CNN_OPTIMIZER, config.CNN_INIT,
            args.num_epochs or config.CNN_NUM_EPOCHS)


def optimizer_of(args: Namespace, name: str, epochs: int) -> Optimizer:
    """The Optimizer from the options, refusing those that do not apply: the course's gd keeps
    its fixed rate, only momentum has a beta, and the neuron has no hidden layer to drop or to
    start otherwise than at zeros. args.keep_prob: one value, or cv's list."""
    gd = name == "gd"
    keep_probs = args.keep_prob if isinstance(args.keep_prob, list) else [args.keep_prob]
    if gd and args.decay != "none":
        raise UserError(f"--decay {args.decay} lowers the rate once an epoch: choose "
                        "--optimizer minibatch, momentum or adam (gd keeps the course's rate)")
    if args.beta is not None and name != "momentum":
        raise UserError(f"--beta is momentum's; {name} "
                        + ("has --beta1 and --beta2" if name == "adam" else "has none"))
    if args.model == "logistic" and (min(keep_probs, default=1) < 1
                                     or args.init not in (None, config.INIT)):
        raise UserError("--keep-prob and --init are a network's: the neuron has no hidden "
                        "layer and starts at zeros, as the lesson does (--model two-layer or "
                        "l-layer)")
    return Optimizer(name, 0 if gd else args.mini_batch_size, 0 if gd else epochs,
                     args.beta1, args.beta2,
                     beta=config.BETA if args.beta is None else args.beta, decay=args.decay,
                     decay_rate=args.decay_rate, decay_interval=args.decay_interval)
