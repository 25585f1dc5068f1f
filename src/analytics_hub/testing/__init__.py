"""Helpers for testing the hub and code built on it: deterministic data, real backends."""
