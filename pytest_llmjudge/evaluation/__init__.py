"""The orchestrator: registers runs, schedules and streams their batches, gates, compares, merges."""
