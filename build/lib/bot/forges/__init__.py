"""One adapter per forge behind the small interface in ``base.py``."""
