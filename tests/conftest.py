"""Session fixtures: one throwaway pair of real instances for the whole suite, and one world
on it (demo data, the rule scenarios, the deploy and the main job) shared by the modules that
read it; a module that changes it says so, and the next module that reads it gets it back."""

from __future__ import annotations

import pytest

from lacarte.demo import generate
from lacarte.pipeline import run_steps
from lacarte.steps import DEPLOY, MAIN
from tests.platform_pair import Pair, throwaway_pair
from tests.scenario_world import World, write_scenarios


@pytest.fixture(scope="session")
def pair() -> Pair:
    with throwaway_pair() as started:
        yield started


def deploy_and_run(pair: Pair) -> None:
    """The deploy step then the main job, exactly as `lacarte deploy` and `lacarte run`."""
    run_steps(pair.settings, DEPLOY, quiet=True)
    run_steps(pair.settings, MAIN, quiet=True)


def make_world(pair: Pair) -> None:
    """Demo data and the hand-written rule scenarios, deployed, built and published."""
    generate(pair.settings, acteurs=2500, seed=7)
    with pair.connect("webapp", user="admin") as conn, conn.transaction():
        write_scenarios(World(conn))
    deploy_and_run(pair)


# Set by a module that changed the world (world_changed): the next module that asks for it
# gets it back first. Nothing is put back after the last one.
_CHANGED: list[bool] = []


def world_changed() -> None:
    _CHANGED[:] = [True]


@pytest.fixture(scope="session")
def _made_world(pair: Pair) -> Pair:
    make_world(pair)
    return pair


@pytest.fixture(scope="module")
def world(_made_world: Pair) -> Pair:
    if _CHANGED:
        make_world(_made_world)
        _CHANGED.clear()
    return _made_world


@pytest.fixture(scope="module")
def linked_pair(world: Pair) -> Pair:
    return world
