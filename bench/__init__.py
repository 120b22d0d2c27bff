"""Benchmarks: ``./dev bench`` (or ``python -m bench``) runs every ``bench_*.py`` and prints one table.

Each module defines ``run() -> list[dict]``; every dict has ``benchmark``,
``value``, ``unit`` and optionally ``note``. Speed is measured here, never
asserted by wall clock in the tests.
"""
