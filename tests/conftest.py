"""Session fixtures: one throwaway pair of real instances for the whole suite."""

from __future__ import annotations

import pytest

from lacarte.demo import generate
from tests.platform_pair import Pair, throwaway_pair


@pytest.fixture(scope="session")
def pair() -> Pair:
    with throwaway_pair() as started:
        yield started


@pytest.fixture(scope="session")
def linked_pair(pair: Pair) -> Pair:
    """The pair with small demo data, both links, a build and a publication."""
    generate(pair.settings, acteurs=3000, seed=7)
    pair.dbt("run-operation", "refresh_fdw", "--target", "webapp")
    pair.dbt("run-operation", "refresh_fdw", "--target", "warehouse")
    pair.dbt("build")
    pair.dbt("run-operation", "refresh_fdw", "--target", "webapp")
    pair.dbt("run-operation", "publish_exposures", "--target", "webapp")
    return pair
