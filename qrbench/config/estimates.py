"""Someone's guessed savings per knob group, to print beside the measured ones.

`qrbench explain --estimates NAME|FILE`; the study's impact table ships as `seed`.
"""

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field

from qrbench.config.loader import FileKind, load_yaml_model, resolve_ref


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Estimate:
    # Positive: the fast values are guessed to be this much faster.
    saving_ms: float
    note: str


class _EstimateEntry(_Strict):
    saving_ms: float = Field(allow_inf_nan=False)
    note: str = ""


class _GroupEstimates(_Strict):
    """One optional guess per knob group; the fields are KNOB_GROUPS' ids (a test holds it)."""

    auth: _EstimateEntry | None = None
    timeouts: _EstimateEntry | None = None
    chromium_args: _EstimateEntry | None = None
    web_version_cache: _EstimateEntry | None = None
    webhook: _EstimateEntry | None = None
    db_updates: _EstimateEntry | None = None
    routing: _EstimateEntry | None = None
    chat_sync: _EstimateEntry | None = None
    qr_options: _EstimateEntry | None = None


class _EstimatesFile(_Strict):
    description: str = ""
    estimates: _GroupEstimates


@dataclass(frozen=True)
class Estimates:
    source: str
    description: str
    by_group: dict[str, Estimate]


_ESTIMATES = FileKind("estimates", PurePosixPath("profiles/estimates"))


def resolve_estimates(ref: str, *, cwd: Path | None = None) -> Path:
    """A path, or a name looked up in ./profiles/estimates, then in the shipped ones."""
    return resolve_ref(ref, _ESTIMATES, cwd or Path.cwd())


def load_estimates(ref: str, *, cwd: Path | None = None) -> Estimates:
    """Someone's guessed savings per knob group; every problem names file, key and line.

    ```yaml
    description: where the guesses come from
    estimates:
      webhook:
        saving_ms: 500        # guessed time-to-QR saving of the fast values
        note: "blocking webhook, 500 ms -> 0"
    ```
    """
    path = resolve_estimates(ref, cwd=cwd)
    read = load_yaml_model(_EstimatesFile, path)
    by_group = {
        group_id: Estimate(saving_ms=entry.saving_ms, note=entry.note)
        for group_id, entry in read.estimates
        if entry is not None
    }
    return Estimates(source=str(path), description=read.description, by_group=by_group)
