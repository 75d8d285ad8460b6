"""Paths and hyperparameter defaults, one per line. Importing this module does nothing else.

The paths live under one home: $CATVNONCAT_HOME where set; else the catvnoncat checkout the
current folder is in (a notebook's kernel starts in notebooks/); else the current folder, so that
an installed package writes where it is run, never beside itself. The home is fixed when this
module is first imported (absolute): a later chdir does not move it.
"""

import errno
import os
import tomllib
from pathlib import Path

HOME_ENV = "CATVNONCAT_HOME"  # a folder to hold data/ and reports/, whatever the current folder


def current_folder() -> str:
    try:
        return os.getcwd()
    except FileNotFoundError:  # deleted under the shell; the stages show an OSError as one line
        raise FileNotFoundError(errno.ENOENT, "the current folder no longer exists; cd into "
                                f"one or set {HOME_ENV}") from None


def checkout_or_here(here: Path) -> Path:
    """The nearest catvnoncat checkout from here upwards, else here. A checkout holds pipeline/
    and a pyproject.toml whose [project] name is catvnoncat."""
    for folder in (here, *here.parents):
        if not os.path.isdir(folder / "pipeline"):
            continue
        try:
            with open(folder / "pyproject.toml", "rb") as file:
                project = tomllib.load(file).get("project")
        except (OSError, ValueError):  # no such file, unreadable, or not TOML
            continue
        if isinstance(project, dict) and project.get("name") == "catvnoncat":
            return folder
    return here


HOME_DIR = (Path(os.environ[HOME_ENV]).expanduser().absolute() if os.environ.get(HOME_ENV)
            else checkout_or_here(Path(current_folder())))

# Data
RAW_DIR = HOME_DIR / "data" / "raw"  # the fetched .h5 files
TRAIN_FILE = RAW_DIR / "train_catvnoncat.h5"  # 209 labelled 64x64 RGB images
TEST_FILE = RAW_DIR / "test_catvnoncat.h5"  # 50 labelled 64x64 RGB images
MIRROR_ENV = "CATVNONCAT_DATA_MIRROR"  # a folder holding the .h5 files, tried before the URLs
SHA256 = {  # what every source must match, byte for byte
    "train_catvnoncat.h5": "fbe56ab67c3ae28d564e3a644189117976d6b31af0a3ce9bb17dbf22908af242",
    "test_catvnoncat.h5": "6a9d39ce52fa85953c5834695b8534a30ed8cfd54971fb2f080b5a24d002b951",
}
URLS = (  # public copies at pinned commits, tried in turn after the mirror
    "https://raw.githubusercontent.com/Hiren2002/Logistic-Regression/"
    "a6139a838a0e624f4ab923377df0c5d3386fdf1f/datasets/",
    "https://raw.githubusercontent.com/ramakris/coursera-deeplearning/"
    "c79617ebb9ff38e765e821f80352adee93f19357/neuralnetworks/week2/datasets/",
)
DOWNLOAD_TIMEOUT = 30  # seconds without an answer before a URL counts as failed

# Artifacts
FEATURES_FILE = HOME_DIR / "data" / "processed" / "features.npz"  # uint8 pixel rows: X.T * 255
PARAMS_FILE = HOME_DIR / "data" / "models" / "params.npz"  # w, b, costs and the run's config
CALIBRATION_FILE = PARAMS_FILE.with_name("calibration.npz")  # its temperature and x̄ (calibrate)
REPORTS_DIR = HOME_DIR / "reports"  # figures, metrics and index.html
METRICS_FILE = REPORTS_DIR / "metrics.json"  # accuracies, costs, mislabeled indices
COMPARE_DIR = REPORTS_DIR / "compare"  # one run per learning rate, side by side
RUNS_DIR = HOME_DIR / "data" / "runs"  # every finished run: <id>/run.json and params.npz
RUNS_REPORT_DIR = REPORTS_DIR / "runs"  # make runs: runs.md, runs.json, curves.png, section
RUN_ID_LENGTH = 12  # hex digits of a run's id (of its sha256); tables show the first 6
RUNS_ON_PAGE = 20  # the page's Runs section lists this many, newest first, whatever the ledger
GALLERY_SIZE = 40  # mislabeled images drawn per set, the most confident first (all in a CSV)

# Hyperparameters (the course's published run)
LEARNING_RATE = 0.005  # alpha in w := w - alpha * dw
NUM_ITERATIONS = 2000  # gradient-descent steps from zeros
CHECKPOINT_EVERY = 100  # record cost and accuracies when i % 100 == 0, as the course does
STANDARDIZATION = "x / 255"  # pixel values to [0, 1]; the only one the course uses
PIXEL_SCALE = 255.0  # what the stored pixels are divided by: its one home
COMPARE_LEARNING_RATES = (0.01, 0.001, 0.0001)  # the course's closing experiment
COMPARE_NUM_ITERATIONS = 1500  # its iteration count
ENGINE = "auto"  # gradient descent in the Gram space when m <= n_x; see engines/logistic.py
L2 = 0.0  # lambda in cost + lambda/(2m) ||w||^2; 0 is the course's plain cost
AUGMENT = "none"  # "flip" also trains on every training image mirrored left-right
AUGMENTS = ("none", "flip")  # the choices for --augment

# The course's week-4 networks (make train MODEL=two-layer|l-layer)
MODEL = "logistic"  # one neuron, the lesson's model and the default run
MODELS = ("logistic", "two-layer", "l-layer", "cnn")  # the choices for --model
HIDDEN_LAYERS = {"two-layer": (7,), "l-layer": (20, 7, 5)}  # the course's hidden sizes
NETWORK_LEARNING_RATE = 0.0075  # the week-4 notebook's rate for both networks
NETWORK_NUM_ITERATIONS = 2500  # and its iteration count
NETWORK_SEED = 1  # np.random.seed(1) in the notebook: RandomState(1), drawn layer by layer
COMPARE_NETWORK_LEARNING_RATES = (0.0025, 0.0075, 0.01)  # make compare's rates for a network
CV_NETWORK_LEARNING_RATES = (0.0025, 0.005, 0.0075, 0.01)  # make cv's rates for a network

# The fourth course's convolutional network (make train MODEL=cnn): its week-1 model
CNN_ARCHITECTURE = "4x8 p8 2x16 p4"  # conv 4x4x8 'same', max-pool 8, conv 2x2x16, max-pool 4
CNN_INIT = "he"  # He's start, drawn from RandomState(NETWORK_SEED); the CNN's only one
CNN_OPTIMIZER = "adam"  # mini-batches of MINI_BATCH_SIZE; gd does not fit the CNN's engine
# Rate and epochs chosen by 5-fold CV on the 209 training images only (the test set unread):
# 0.003 levels off at 86-88 % from epoch 55; the course's 0.009 swings at 80-85 %; 0.001 is at
# 70 % by epoch 50. 60 epochs train in about 20 s on 2 cores.
CNN_LEARNING_RATE = 0.003  # Adam's rate for the CNN
CNN_NUM_EPOCHS = 60  # passes over the training set

# The second course's optimizers (make train OPTIMIZER=minibatch|adam), for data too big for gd
OPTIMIZER = "gd"  # full-batch gradient descent: the course's run, exactly
OPTIMIZERS = ("gd", "minibatch", "momentum", "adam")  # the choices for --optimizer
MINI_BATCH_SIZE = 64  # columns per step (the last batch of an epoch smaller)
NUM_EPOCHS = 10  # passes over the training set
BETA1 = 0.9  # Adam's first-moment decay
BETA2 = 0.999  # Adam's second-moment decay
EPSILON = 1e-8  # Adam's guard against dividing by zero
MINIBATCH_LEARNING_RATE = 0.0007  # the Optimization notebook's rate for mini-batch and Adam
MINIBATCH_SEED = 10  # its seed; epoch e shuffles with seed + e, as its model() does
BETA = 0.9  # momentum's decay of the velocity: v = beta v + (1 - beta) g
DECAYS = ("none", "inverse", "scheduled")  # the choices for --decay: update_lr, schedule_lr_decay
DECAY = "none"  # the rate stays learning_rate0, as in the course's runs without decay
DECAY_RATE = 1.0  # lr0 / (1 + rate * epoch), or * floor(epoch / interval): the course's 1
# Epochs between scheduled decays. The course decays every 1000 of its 5000 epochs, a fifth of
# the run, so five steps down; our 10 epochs keep that proportion at 2 (its 1000 would mean
# never: 10 epochs are all in the first interval).
DECAY_INTERVAL = 2

# The second course's initialization and regularization, for the week-4 networks
INITS = ("course", "he")  # week 4's draw (x 0.01, or / sqrt(n_prev)), or He's sqrt(2 / n_prev)
INIT = "course"  # the course's week-4 runs, exactly
KEEP_PROB = 1.0  # inverted dropout on the hidden layers in training; 1 is off, as the course

# Cross-validation (make cv): settings chosen on the training set only
CV_DIR = REPORTS_DIR / "cv"  # summary.json, summary.md, cv.png
CV_FOLDS = 5  # K in repeated stratified K-fold
CV_REPEATS = 10  # fresh random fold assignments
# float64 arrays of (hidden units, images) per row that gd cross-validation holds at once, a
# little above the 14 measured (scripts/peak_memory.py, 3,000 random candidates of the neuron)
CV_ROW_ARRAYS = 16
CV_SEED = 0  # seeds the fold assignments
CV_LEARNING_RATES = (0.0005, 0.001, 0.002, 0.005, 0.01)  # the rates searched
CV_NUM_ITERATIONS = 3000  # candidates: the neuron after 100, 200, ... steps
CV_LARGE_M = 5000  # above this many training images: adam and one repeat, unless told otherwise
CV_MINIBATCH_LEARNING_RATES = (0.0003, 0.0007, 0.002)  # the rates searched with mini-batches
CV_CNN_LEARNING_RATES = (0.001, 0.003, 0.009)  # the CNN's: around its 0.003 and the course's 0.009

# make cv SEARCH=random (the second course's week 3): TRIALS candidates, each setting drawn
# uniformly on its scale between the ends of its range (the variable's lo..hi narrows it, a value
# fixes it). Scales: "log" 10^u (l2's range from 0: its lowest decade draws 0), "linear" u,
# "1-log" 1 - 10^u (a beta: as many draws in 0.99..0.999 as in 0.9..0.99), "pow2" 2^k, "log-int"
# a whole 10^u. None: searched only when given a range (a batch size, a hidden layer's size:
# candidates that differ in them cannot train together).
SEARCH_SPACE = {
    "learning_rate": ("log", (1e-4, 1e-1)),
    "l2": ("log", (0.0, 10.0)),  # 0, or 1e-3 to 10
    "keep_prob": ("linear", (0.5, 1.0)),  # a network's
    "beta": ("1-log", (0.8, 0.999)),  # momentum's
    "beta1": ("1-log", (0.8, 0.99)),  # Adam's
    "beta2": ("1-log", (0.99, 0.9999)),
    "mini_batch_size": ("pow2", None),
    "hidden": ("log-int", None),  # each hidden layer's size, as LAYERS="8..32 4..16"
}
L2_DECADES = 4  # l2's range from 0: the four decades below its top, then 0
CV_TRIALS = 60  # candidates a round
CV_RANDOM_REPEATS = 1  # folds' repeats in a random search: many candidates, each scored once
ZOOM_BEST = 0.2  # ZOOM=1: the second round's region spans the best fifth of the first's
ZOOM_MARGIN = 0.1  # widened by this share of each setting's first range on either side

# Photos: classify's and make dataset's (your own labelled photo folders)
PHOTO_FIT = "crop"  # a photo to a square: the centre crop (or "squash"; artifacts/photos.FITS)
DATASET_TEST_FRACTION = 0.2  # of each class held out as the test set, when no test/ folder
DATASET_SEED = 0  # seeds that split
DATASET_IMAGE_SIZE = 64  # pixels a side, the course's
