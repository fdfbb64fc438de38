"""Finding the dbt project the tools work on: given, named by LACARTE_PROJECT_DIR, or found
by walking up from the current directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from lacarte.errors import UserError

PROJECT_NAME = "lacarte"


@dataclass(frozen=True)
class Project:
    """The dbt project (a checkout of this repository) and the files the tools read in it."""

    root: Path

    @classmethod
    def find(cls, given: str | os.PathLike | None = None, environ: dict[str, str] | None = None) -> Project:
        """The project at `given`, else at $LACARTE_PROJECT_DIR, else the nearest parent of the
        current directory holding this project's dbt_project.yml."""
        environ = os.environ if environ is None else environ
        explicit = given or environ.get("LACARTE_PROJECT_DIR")
        if explicit:
            root = Path(explicit).expanduser().resolve()
            if not cls._is_project(root):
                raise UserError(f"{root} is not the lacarte dbt project (no dbt_project.yml named '{PROJECT_NAME}')")
            return cls(root)
        here = Path.cwd().resolve()
        for candidate in (here, *here.parents):
            if cls._is_project(candidate):
                return cls(candidate)
        raise UserError(
            "no lacarte dbt project here: run lacarte inside the checkout, or pass --project-dir DIR "
            "(or set LACARTE_PROJECT_DIR)"
        )

    @staticmethod
    def _is_project(path: Path) -> bool:
        project_file = path / "dbt_project.yml"
        if not project_file.is_file():
            return False
        try:
            return (yaml.safe_load(project_file.read_text()) or {}).get("name") == PROJECT_NAME
        except yaml.YAMLError:
            return False

    @property
    def profiles_dir(self) -> Path:
        return self.root / "profiles"

    @property
    def seeds_dir(self) -> Path:
        return self.root / "seeds"

    @property
    def default_env_file(self) -> Path:
        return self.root / ".env"

    @cached_property
    def dbt_vars(self) -> dict[str, Any]:
        """The vars of dbt_project.yml (plain YAML: they hold no Jinja)."""
        return (yaml.safe_load((self.root / "dbt_project.yml").read_text()) or {}).get("vars", {})
