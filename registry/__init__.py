"""The public register of projects that reuse health data, and their results."""
