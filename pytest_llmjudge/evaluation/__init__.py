"""The orchestrator: registers, schedules and streams runs, gates, compares, merges."""
