"""Shared plumbing of the command-line tools: settings, instances, connections, dbt."""
