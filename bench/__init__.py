"""Benchmarks for mobius_sqlcheck: a corpus generator (bench.corpus) and a runner (bench.run)."""
