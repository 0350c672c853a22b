"""Core: what every area may use (column types, worker heartbeats, security headers, errors).

It imports no other area, so any area may import it.
"""
