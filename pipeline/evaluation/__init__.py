"""Statistics and a run's metrics: intervals, baselines, kappa, AUC."""
