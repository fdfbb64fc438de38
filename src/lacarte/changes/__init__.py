"""The incremental pipeline: what changed in the webapp, what to rebuild, what was published."""
