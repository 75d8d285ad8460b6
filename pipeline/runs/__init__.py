"""Every run kept: its record, the ledger of records under data/runs, and their tables."""
