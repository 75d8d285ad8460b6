"""Cross-validation: folds, the Gram and mini-batch paths, the summary and its figure."""
