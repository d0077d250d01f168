"""Benchmarks run by ``make bench``; each module exposes ``run(corpus: Path) -> dict``."""
