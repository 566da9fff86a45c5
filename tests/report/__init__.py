"""Tests for routelens.report."""
