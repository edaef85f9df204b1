"""Tests that every bad input fails first, with a clear one-line error (sizes, magnitudes, files, API edges)."""
