"""The repository's tests; the Python ones are the package tests.py (tests/py)."""
