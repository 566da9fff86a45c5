"""Fakes that stand in for paid services in tests and benchmarks."""
