"""Reliable model calls: the backend protocols, cache, retries, limits, budget, secrets, loop."""
