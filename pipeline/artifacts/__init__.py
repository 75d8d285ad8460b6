"""What the stages read and write: atomic files, params.npz, features, photos -> columns."""
