"""What apply and update return and report: :class:`SyncResult`."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layers.errors import SyncError
from layers.geopackage import temporary_path
from layers.sync.merge import Conflict, LayerCounts

__all__ = ["SyncResult"]


@dataclass
class SyncResult:
    """What :func:`~layers.sync.apply.apply_package` and :func:`~layers.sync.update.update_workspace` return.

    Attributes
    ----------
    action : 'apply' or 'update'
    master, other : Path
        The master, and the package (apply) or workspace (update).
    policy : str
    dry_run : bool
    already_applied : bool
        Apply only: the package was in the ledger; nothing was done.
    version_before, version_after : int
        Master version (apply), or workspace base version (update).
    layers : dict of str to LayerCounts
    conflicts : list of Conflict
        One per conflicting field, with the side kept (``resolution``) and
        the value now in place (``kept``); the losing value is the other side's.
    resolutions : Path or None
        The resolutions file the choices came from, if any.
    rejected : list of dict
        Rows that break their layer's rules (``layer``, ``uuid``, ``reason``):
        not written, whatever the policy; listed in the report.
    """

    action: str
    master: Path
    other: Path
    policy: str
    dry_run: bool = False
    package_uuid: str | None = None
    already_applied: bool = False
    version_before: int | None = None
    version_after: int | None = None
    layers: dict[str, LayerCounts] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    resolutions: Path | None = None
    rejected: list[dict[str, str]] = field(default_factory=list)
    #: Apply: survey features received as evidence, per survey layer (kept in ``survey_<layer>``).
    survey: dict[str, int] = field(default_factory=dict)
    #: Apply: component codes the office gave or kept (``layer``, ``uuid``, ``from``, ``to``, ``reason``;
    #: see ``layers.sync.codes.settle_codes``).
    renumbered: list[dict[str, Any]] = field(default_factory=list)
    #: Photos: apply ``linked``, ``stored`` (bytes new to the master), ``unlinked``, ``dropped`` (bytes no
    #: facility refers to any more); update ``linked`` and ``unlinked`` in the workspace; both
    #: ``gone_with_features`` (the links of deleted features, taken off with them) and apply
    #: ``of_missing_features`` (a package's photos of features the master does not hold, not kept).
    photos: dict[str, int] = field(default_factory=dict)
    #: Apply: facility values set because they follow the facility's latest inspection
    #: (``layer``, ``uuid``, ``field``, ``before``, ``after``, ``inspection``).
    followed: list[dict[str, Any]] = field(default_factory=list)
    #: Update: the office's definition changes and added layers the workspace took, one line each.
    definitions: list[str] = field(default_factory=list)
    #: Update: blocks of component-code serials the master reserved for the workspace (``district``,
    #: ``component_class``, ``first``, ``last``; a dry run: the serials each would hold, ``first`` None).
    code_blocks: list[dict[str, Any]] = field(default_factory=list)
    #: Update: district areas of the master the workspace now numbers by (``added``, ``changed``, ``removed``).
    district_areas: dict[str, list[str]] = field(default_factory=dict)
    #: Update: why the workspace got no new block though its serials ran low (one line), or None.
    codes_note: str | None = None

    def reject(self, layer: str, uuid: str, reason: str) -> None:
        """Record a row that is not written because it breaks a rule of its layer."""
        self.rejected.append({"layer": layer, "uuid": uuid, "reason": reason})

    @property
    def unresolved(self) -> list[Conflict]:
        """Conflicts left for a person (manual policy, no choice given): the office's value stayed."""
        return [c for c in self.conflicts if c.resolution is None]

    @property
    def has_conflicts(self) -> bool:
        """True if there were conflicts (resolved by the policy or choices, or unresolved)."""
        return bool(self.conflicts)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report: counts, and every conflict with a ``choice`` a person may edit."""
        out: dict[str, Any] = {
            "action": self.action, "master": str(self.master),
            ("package" if self.action == "apply" else "workspace"): str(self.other),
            "package_uuid": self.package_uuid, "policy": self.policy, "dry_run": self.dry_run,
            "already_applied": self.already_applied, "version_before": self.version_before,
            "version_after": self.version_after,
            "layers": {k: v.to_dict() for k, v in self.layers.items()},
            "conflicts": [c.to_dict() for c in self.conflicts], "unresolved": len(self.unresolved),
            "rejected": self.rejected,
        }
        if self.survey:
            out["survey_evidence"] = self.survey
        if self.renumbered:
            out["renumbered"] = self.renumbered
        if any(self.photos.values()):
            out["photos"] = self.photos
        if self.followed:
            out["followed_inspections"] = self.followed
        if self.definitions:
            out["definitions"] = self.definitions
        if self.code_blocks:
            out["code_blocks_added"] = self.code_blocks
        if self.district_areas:
            out["district_areas"] = self.district_areas
        if self.codes_note:
            out["codes_note"] = self.codes_note
        if self.resolutions is not None:
            out["resolutions"] = str(self.resolutions)
        return out

    def to_json(self) -> str:
        """The report as JSON text (UTF-8 characters kept)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def write_report(self, path: str | os.PathLike) -> None:
        """Write the JSON report to *path* atomically; SyncError if it cannot be written."""
        path = Path(path)
        tmp = temporary_path(path)
        try:
            tmp.write_text(self.to_json() + "\n", encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise SyncError(f"{path}: cannot write the report: {exc.strerror}") from None
