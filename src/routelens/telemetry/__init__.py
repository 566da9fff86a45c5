"""OpenTelemetry spans and metrics for routing runs; every name lives in `names.py`."""
