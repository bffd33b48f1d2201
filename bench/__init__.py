"""Benchmarks. ``python -m bench`` runs them all and prints figures next to their anchors."""
