"""Pure text analysis for Helpline: no ORM, no settings, no I/O beyond files shipped in packages.

Everything here takes strings (and small frozen dataclasses) and returns frozen dataclasses, so
the triage service, the ``helpline triage`` CLI and the benchmarks share one implementation.
"""
