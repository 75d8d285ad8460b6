"""The page: its sections, figures, the run's section, assemble, and the templates beside them."""
