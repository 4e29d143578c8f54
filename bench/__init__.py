"""Benchmarks: commands run by hand (``python bench/NAME.py --help``), not tests."""
