"""Every output of an evaluation: JSON report, terminal lines, HTML, JUnit, job summary, Weave."""
