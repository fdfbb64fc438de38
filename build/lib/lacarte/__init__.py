"""La Carte's data platform: tooling around the dbt project (instances, links, pipeline, sample)."""

__version__ = "0.2.0"
