"""The write pipeline: the ledger of loads and imports, and their replay on rebuild."""
