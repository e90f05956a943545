"""Release Publisher: statistical release calendars as validated linked data."""

__version__ = "0.1.0"
