"""The data model: cases and datasets, judges, generators, verdicts, answers and runs."""
