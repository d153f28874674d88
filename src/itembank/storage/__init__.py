"""The only place that touches the bank's files and git: reading, atomic saves as commits,
locks, kept versions and caches."""
