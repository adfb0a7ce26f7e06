"""Numbers copied from papers: one YAML file per published table under ``reported/``.

Each file names its source (paper, arXiv id, table) and lists rows of values exactly as
printed, so a reported number can be checked against the paper. Leaderboards render these
tables apart from the rows reproduced from run logs and never merge the two.

Example::

    title: ZoomEarth on LRS-GRO
    benchmarks: [lrs-gro]
    source:
      paper: "ZoomEarth: Active Perception for Ultra-High-Resolution Geospatial Vision-Language Tasks"
      arxiv: "2511.12267"
      table: LRS-GRO results table
    decimals: 2
    columns:
      - {key: global, label: Global}
    rows:
      - {model: ZoomEarth-3B, values: {global: 63.09}}
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lrsgro.errors import InputError


class Source(BaseModel):
    """The source of a reported table: paper, table name and optional arXiv id or URL."""

    model_config = ConfigDict(extra="forbid")

    paper: str
    table: str
    arxiv: str | None = None
    url: str | None = None


class Column(BaseModel):
    """One column of a reported table: the key used in rows and the header printed."""

    model_config = ConfigDict(extra="forbid")

    key: str
    label: str


class ReportedRow(BaseModel):
    """One model's numbers as printed; None for a cell the paper leaves empty."""

    model_config = ConfigDict(extra="forbid")

    model: str
    setting: str | None = None
    values: dict[str, float | None]


class ReportedTable(BaseModel):
    """One published table."""

    model_config = ConfigDict(extra="forbid")

    title: str
    benchmarks: list[str] = Field(min_length=1)
    source: Source
    unit: str = "percent"
    decimals: int = Field(default=2, ge=0, le=6)
    columns: list[Column] = Field(min_length=1)
    rows: list[ReportedRow] = Field(min_length=1)
    notes: list[str] = Field(default_factory=list)
    file: str = Field(default="", exclude=True)

    @model_validator(mode="after")
    def _check_cells(self) -> ReportedTable:
        keys = [column.key for column in self.columns]
        if len(set(keys)) != len(keys):
            raise ValueError(f"column keys must be unique, got {keys}")
        for row in self.rows:
            missing = [key for key in keys if key not in row.values]
            unknown = [key for key in row.values if key not in keys]
            if missing or unknown:
                raise ValueError(
                    f"row {row.model!r} must give every column once (use null for an empty cell); "
                    f"missing {missing}, unknown {unknown}"
                )
        return self


def load_reported(folder: Path) -> list[ReportedTable]:
    """Read every ``*.yaml`` file of ``folder``, sorted by file name; [] when it does not exist.

    Raises:
        InputError: a file is not valid YAML or does not match :class:`ReportedTable`.
    """
    if not folder.is_dir():
        return []

    tables = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            raise InputError(f"invalid YAML: {error}", path=path, line=mark.line + 1 if mark else None) from error
        try:
            table = ReportedTable.model_validate(data)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise InputError(f"invalid reported table at {where or 'top level'}: {first['msg']}", path=path) from error
        tables.append(table.model_copy(update={"file": path.name}))
    return tables
