"""Paths and hyperparameter defaults, one per line. Importing this module does nothing else."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository

# Data
RAW_DIR = ROOT / "data" / "raw"  # the fetched .h5 files
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
FEATURES_FILE = ROOT / "data" / "processed" / "features.npz"  # (n_x, m) columns, standardized
PARAMS_FILE = ROOT / "data" / "models" / "params.npz"  # w, b, costs and the run's config
REPORTS_DIR = ROOT / "reports"  # figures, metrics and index.html
METRICS_FILE = REPORTS_DIR / "metrics.json"  # accuracies, costs, mislabeled indices
COMPARE_DIR = REPORTS_DIR / "compare"  # one run per learning rate, side by side

# Hyperparameters (the course's published run)
LEARNING_RATE = 0.005  # alpha in w := w - alpha * dw
NUM_ITERATIONS = 2000  # gradient-descent steps from zeros
CHECKPOINT_EVERY = 100  # record cost and accuracies when i % 100 == 0, as the course does
STANDARDIZATION = "x / 255"  # pixel values to [0, 1]; the only one the course uses
COMPARE_LEARNING_RATES = (0.01, 0.001, 0.0001)  # the course's closing experiment
COMPARE_NUM_ITERATIONS = 1500  # its iteration count
ENGINE = "auto"  # gradient descent in the Gram space when m <= n_x; see engine.py
L2 = 0.0  # lambda in cost + lambda/(2m) ||w||^2; 0 is the course's plain cost
AUGMENT = "none"  # "flip" also trains on every training image mirrored left-right
AUGMENTS = ("none", "flip")  # the choices for --augment

# Cross-validation (make cv): settings chosen on the training set only
CV_DIR = REPORTS_DIR / "cv"  # summary.json, summary.md, cv.png
CV_FOLDS = 5  # K in repeated stratified K-fold
CV_REPEATS = 10  # fresh random fold assignments
CV_SEED = 0  # seeds the fold assignments
CV_LEARNING_RATES = (0.0005, 0.001, 0.002, 0.005, 0.01)  # the rates searched
CV_NUM_ITERATIONS = 3000  # candidates: the neuron after 100, 200, ... steps
