"""Benchmark clients: each module runs as `python -m bench.clients.NAME SPEC_JSON [ARGS]`.

Every client reads the same JSON spec (bench.clients.common.Spec), does the scenario's requests
and prints one JSON line (bench.clients.common.Result) on stdout.
"""
