"""The converter's one kind of user error and its notes, both one line on stderr."""

import sys


class ConvertError(Exception):
    """A user error: printed as one line, exit status 1."""


def note(msg):
    print("convert.py: note: " + msg, file=sys.stderr)
