"""Test support: real processes and real clients, never stand-ins for LiveKit or our own code."""
