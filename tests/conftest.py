"""Session fixtures: one throwaway pair of real instances for the whole suite, and one world
on it (demo data, the rule scenarios, the deploy and the main job) shared by the modules that
read it; a module that changes it says so, and the next module that reads it gets it back."""

from __future__ import annotations

import signal
import subprocess

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
def world_as_it_is(_made_world: Pair) -> Pair:
    """The world however an earlier module left it: for a module whose tests compare
    incremental runs with a full rebuild, which any state allows."""
    return _made_world


@pytest.fixture(scope="module")
def linked_pair(world: Pair) -> Pair:
    return world


BENCHMARK_MODULE = "tests.test_bench"
# Run last, in this order: the modules that change the world (the second takes it as the first
# left it, so the world is never put back), then the benchmarks' test (they run in the
# background meanwhile).
LAST_MODULES = ("tests.test_incremental", "tests.test_stream", BENCHMARK_MODULE)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: LAST_MODULES.index(item.module.__name__) + 1
               if item.module.__name__ in LAST_MODULES else 0)


@pytest.fixture(scope="session", autouse=True)
def benchmarks_in_background(request: pytest.FixtureRequest, tmp_path_factory):
    """The tiny benchmarks (tests/test_bench.py), started with the session when their test is
    selected: they use their own pairs and no test's data, and take long on their own."""
    if not any(item.module.__name__ == BENCHMARK_MODULE for item in request.session.items):
        yield None
        return
    from tests.test_bench import start_benchmarks

    running = start_benchmarks(tmp_path_factory.mktemp("benchmarks"))
    yield running
    for _results, process in running.values():  # still running when the session stops early
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # the harness stops its pair and removes it
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
