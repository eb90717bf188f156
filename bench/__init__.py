"""Benchmarks. They print figures and ratios; they assert nothing about speed."""
