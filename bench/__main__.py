"""Runs the benchmarks: ``python -m bench [--rpc URL]`` (``make bench``)."""

from bench.gas import main

main()
