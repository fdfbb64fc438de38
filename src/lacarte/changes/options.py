"""The follower's timings (lacarte.changes.follow), in a module the command line reads
without importing the follower."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FollowOptions:
    window: float = 0.1  # seconds to gather a burst once a change is seen
    poll: float = 0.1  # seconds between looks at the stream when nothing changed
    busy_wait: float = 5.0  # seconds between tries while another job holds the warehouse
    heartbeat: float = 2.0  # seconds between heartbeats when idle


DEFAULTS = FollowOptions()
