"""Migration files on disk: discovery and naming (files.py) and the chained sum (sumfile.py)."""
