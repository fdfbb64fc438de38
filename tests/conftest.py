"""Session fixtures: one throwaway pair of real instances for each worker of the suite, and
one world on it (demo data, the rule scenarios, the deploy and the main job) shared by the
modules that read it; a module that changes it says so, and the next module that reads it gets
it back. The order modules start in, and how they are shared out between the workers."""

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


# The world's life in this process (each xdist worker has its own pair and world): made once,
# and "changed" when a module changed it after it was made (world_changed): the next module that
# asks for it gets it back first. A module that starts from data of its own before the world
# exists changes nothing to put back. Nothing is put back after the last module.
_WORLD = {"made": False, "changed": False}


def world_changed() -> None:
    if _WORLD["made"]:
        _WORLD["changed"] = True


@pytest.fixture(scope="session")
def _made_world(pair: Pair) -> Pair:
    make_world(pair)
    _WORLD["made"] = True
    return pair


@pytest.fixture(scope="module")
def world(_made_world: Pair) -> Pair:
    if _WORLD["changed"]:
        make_world(_made_world)
        _WORLD["changed"] = False
    return _made_world


@pytest.fixture(scope="module")
def world_as_it_is(_made_world: Pair) -> Pair:
    """The world however an earlier module left it: for a module whose tests compare
    incremental runs with a full rebuild, which any state allows."""
    return _made_world


@pytest.fixture(scope="module")
def linked_pair(world: Pair) -> Pair:
    return world


# The order modules start in. make test runs two workers (pytest-xdist, -n 2), each on a pair of its
# own; each module runs whole on one worker, each benchmark's run apart (ModuleScheduling), and
# a worker takes the next one in this order when it is nearly done. First the modules that write
# fresh data of their own on the pair (before the world is made there, nothing to put back) and
# the long benchmarks; last the modules that change the world (the second takes it as the first
# left it), so that no module after them has it rebuilt.
BENCHMARKS_MODULE = "tests.test_bench"
FIRST_MODULES = ("tests.test_airflow", "tests.test_fixture_and_demo", BENCHMARKS_MODULE)
LAST_MODULES = ("tests.test_incremental", "tests.test_stream")


def module_rank(name: str) -> int:
    if name in FIRST_MODULES:
        return FIRST_MODULES.index(name) - len(FIRST_MODULES)
    return LAST_MODULES.index(name) + 1 if name in LAST_MODULES else 0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: module_rank(item.module.__name__))


@pytest.hookimpl(optionalhook=True)  # a run without xdist (-p no:xdist) has no such hook
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """Each module whole on one worker (its module fixtures made once), each benchmark apart, in
    the order of the collection (not xdist's, by number of tests)."""
    from xdist.scheduler import LoadScopeScheduling

    benchmarks = BENCHMARKS_MODULE.replace(".", "/") + ".py"

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return nodeid if module == benchmarks else module

    config.option.loadscopereorder = False
    return ModuleScheduling(config, log)
