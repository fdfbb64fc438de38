"""Session fixtures: one throwaway pair of real instances for the whole suite."""

from __future__ import annotations

import pytest

from lacarte.demo import generate
from lacarte.pipeline import run_steps
from lacarte.steps import DEPLOY, MAIN
from tests.platform_pair import Pair, throwaway_pair


@pytest.fixture(scope="session")
def pair() -> Pair:
    with throwaway_pair() as started:
        yield started


def deploy_and_run(pair: Pair) -> None:
    """The deploy step then the main job, exactly as `lacarte deploy` and `lacarte run`."""
    run_steps(pair.settings, DEPLOY, quiet=True)
    run_steps(pair.settings, MAIN, quiet=True)


@pytest.fixture(scope="session")
def linked_pair(pair: Pair) -> Pair:
    """The pair with small demo data, both links, a build and a publication."""
    generate(pair.settings, acteurs=3000, seed=7)
    deploy_and_run(pair)
    return pair
