"""Agents that decide what to submit to a testbed chain (filled in by the agents issue)."""
