"""The reliability suite: hostile input, crashes, outages and limits (docs/reliability.md)."""
