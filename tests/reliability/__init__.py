"""The reliability suite: hostile input, crashes, outages, limits.

See docs/reliability.md for the promises these tests hold.
"""
