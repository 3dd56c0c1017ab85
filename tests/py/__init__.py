"""Tests of the Python tools (tools/): run from the repository root with `make test-py`."""
