"""Quorum benchmark: drives a real `quorum serve` over HTTP and prints every figure beside its budget.

Run `python -m bench.run --help`; see bench/README.md.
"""
