"""Ordered schema migrations (NNNN_name.py with up/down), applied by `quorum migrate` and at start."""
