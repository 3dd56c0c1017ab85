"""The datasets under ../shared/data, read in place (datasets), and the four tasks built on them (tasks)."""
