"""Tests for routelens.analytics."""
