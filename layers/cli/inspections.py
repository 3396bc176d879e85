"""The inspections command: list the inspections and cases of a workspace or master, and record one.

``tongcheng inspections SOURCE [--status ...] [--older-than 3d] [--format table|csv|json]`` lists;
``tongcheng inspections add WORKSPACE --layer L --uuid U --condition 破损 [--defect D] [--note TEXT]
[--photo FILE]`` records. One parser takes both forms (``add`` is the first word of the second), so the
common options (``-v``, ``--log-file``) work after either.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from collections.abc import Sequence
from typing import Any

from layers.cli.console import Commands, display_width
from layers.errors import TongchengError, ValidationError

__all__ = ["add_commands"]

_OPTION_OF = {"condition": "--condition", "defect": "--defect", "case_status": "--status",
              "description": "--note", "inspector": "--inspector"}
_ADD_ONLY = ("condition", "defect", "note", "photo", "time", "inspector")
_COLUMNS = ("uuid", "facility_layer", "facility_uuid", "facility", "inspected_at", "inspector", "condition", "defect",
            "description", "case_status", "filed_at", "dispatched_at", "handled_at", "checked_at", "closed_at",
            "age_days", "photos")


def _age(text: str) -> dt.timedelta:
    from layers.inspections import parse_age

    try:
        return parse_age(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _time(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date and time like 2026-05-01T09:30+08:00") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone (add +08:00 or Z)")
    return moment


def cmd_inspections(args: argparse.Namespace) -> None:
    words = list(args.words)
    if words[0] == "add":
        if len(words) != 2:
            raise TongchengError("inspections add: give one WORKSPACE (tongcheng inspections add WORKSPACE "
                                 "--layer L --uuid U --condition C)")
        _add(words[1], args)
        return
    if len(words) != 1:
        raise TongchengError(f"inspections: give one WORKSPACE or MASTER, not {' '.join(words)!r} "
                             "(to record one: tongcheng inspections add WORKSPACE ...)")
    given = [name for name in _ADD_ONLY if getattr(args, name)]
    if given:
        raise TongchengError(f"inspections: --{given[0]} records an inspection: use tongcheng inspections add "
                             f"{words[0]} --layer L --uuid U --condition C ...")
    _list(words[0], args)


def _add(workspace: str, args: argparse.Namespace) -> None:
    from layers.inspections import add_inspection
    from layers.media.content import MediaError
    from layers.workspace.store import Workspace

    missing = [f"--{name}" for name in ("layer", "uuid", "condition") if not getattr(args, name)]
    if missing:
        raise TongchengError(f"inspections add {workspace}: {', '.join(missing)} required")
    with Workspace.open(workspace) as ws:
        try:
            added = add_inspection(ws, args.layer, args.uuid, condition=args.condition, defect=args.defect,
                                   description=args.note, photos=args.photo or (), inspected_at=args.time,
                                   inspector=args.inspector, case_status=",".join(args.status) if args.status else None,
                                   max_bytes=int(args.max_size * 1024 * 1024))
        except MediaError as exc:
            raise MediaError(f"{exc}; nothing was recorded") from None
        except ValidationError as exc:
            option = _OPTION_OF.get(exc.field or "", exc.field)
            raise ValidationError(f"{workspace}: {option} {str(exc).split(': ', 1)[-1]}; nothing was recorded",
                                  field=exc.field, value=exc.value, rule=exc.rule) from None
        values = added.values
        definition = ws.layer("inspections")
        facility = ws.find(args.layer, args.uuid)
        label_field = ws.layer(args.layer).label_field
        name = f" ({facility.attributes.get(label_field)})" if label_field else ""
    condition = definition.field("condition")
    print(f"recorded inspection {added.uuid} of {args.layer} {args.uuid}{name}: {values['condition']} "
          f"({condition.code_label(values['condition'], 'en')})" + (f", defect {values['defect']}" if values['defect']
                                                                   else ""))
    if added.case_opened:
        print(f"  case opened: {added.case_opened} (found)")
    elif values.get("case_status"):
        print(f"  case status: {values['case_status']}")
    else:
        print("  no case: the facility is intact")
    if added.photos:
        print(f"  {len(added.photos)} photo(s) stored: {', '.join(p.sha256[:12] for p in added.photos)}")
    for change in added.followed:
        print(f"  follows: {args.layer} {args.uuid}: {change.field} "
              f"{change.before if change.before is not None else '(empty)'} -> {change.after} "
              "(the facility follows its latest inspection)")
    if not added.latest:
        print("  not the facility's latest inspection: its fields are left as they are")


def _days(age: dt.timedelta) -> float:
    return round(age.total_seconds() / 86400, 2)


def _age_text(age: dt.timedelta) -> str:
    minutes = max(0, int(age.total_seconds() // 60))
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    return f"{days}d {hours}h" if days else f"{hours}h {minutes}m" if hours else f"{minutes}m"


def _record(row: Any) -> dict[str, Any]:
    values = row.values
    out = {"uuid": row.uuid, "facility_layer": values["facility_layer"], "facility_uuid": values["facility_uuid"],
           "facility": row.facility_label if row.facility_fid is not None else None}
    out.update({c: values.get(c) for c in _COLUMNS[4:15]})
    out.update(age_days=_days(row.age), photos=row.photos)
    return out


def _list(source: str, args: argparse.Namespace) -> None:
    from layers.inspections import list_inspections

    rows = list_inspections(source, statuses=args.status, older_than=args.older_than)
    if args.layer:
        rows = [r for r in rows if r.layer == args.layer]
    if args.uuid:
        rows = [r for r in rows if r.facility_uuid == args.uuid or r.uuid == args.uuid]
    if args.format == "json":
        json.dump([_record(r) for r in rows], sys.stdout, ensure_ascii=False, indent=1)
        print()
        return
    if args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(_record(r) for r in rows)
        return
    _table(rows)


def _cell(text: str, width: int) -> str:
    """*text* cut or padded to *width* terminal columns (CJK characters take two)."""
    out, used = "", 0
    for char in text:
        w = display_width(char)
        if used + w > width:
            out = out[:-1] + "…" if out else ""
            used = display_width(out)
            break
        out, used = out + char, used + w
    return out + " " * (width - used)


def _table(rows: Sequence[Any]) -> None:
    widths = (("inspected (UTC)", 17), ("age", 8), ("layer", 11), ("facility", 16), ("condition", 10),
              ("defect", 14), ("case", 6), ("inspector", 10), ("photos", 7), ("inspection uuid", 36))
    print(" ".join(_cell(title, width) for title, width in widths).rstrip())
    print("-" * (sum(w for _, w in widths) + len(widths) - 1))
    for r in rows:
        v = r.values
        facility = str(r.facility_label) if r.facility_fid is not None else "(missing)"
        cells = (str(v["inspected_at"])[:16].replace("T", " "), _age_text(r.age), r.layer, facility,
                 str(v["condition"]), str(v.get("defect") or ""), str(v.get("case_status") or "-"),
                 str(v.get("inspector") or ""), str(r.photos), r.uuid)
        print(" ".join(_cell(c, w) for c, (_, w) in zip(cells, widths, strict=True)).rstrip())
    open_cases = sum(1 for r in rows if r.is_open)
    print(f"{len(rows)} inspection(s), {open_cases} open case(s)")


def add_commands(commands: Commands) -> None:
    """Add ``inspections`` (list) and ``inspections add`` (record one) to the ``tongcheng`` parser."""
    p = commands.add_parser(
        "inspections", help="list inspections and cases (of a workspace or master), or record one (add)",
        usage="tongcheng inspections WORKSPACE|MASTER [--status S] [--older-than 3d] [--format table|csv|json]\n"
              "       tongcheng inspections add WORKSPACE --layer L --uuid U --condition C [--defect D] "
              "[--note TEXT] [--photo FILE]",
        description="List the inspections of a workspace or master, oldest first (a table, CSV or JSON), or "
                    "record an inspection of a facility in a workspace with `add`. Conditions, defects and case "
                    "statuses may be given in Chinese or English (破损 or damaged, 立案 or filed).")
    p.add_argument("words", nargs="+", metavar="WORKSPACE|MASTER | add WORKSPACE")
    listing = p.add_argument_group("listing")
    listing.add_argument("--status", action="append", metavar="S",
                         help="only cases at these steps (发现/found, 立案/filed, 派遣/dispatched, 处理/in hand, "
                              "核查/checked, 结案/closed; 'open' for all but closed; commas or repeated); "
                              "with add: the case's step")
    listing.add_argument("--older-than", type=_age, metavar="AGE", help="only those inspected at least AGE ago "
                         "(3d, 12h, 2w, 90m)")
    listing.add_argument("--format", choices=("table", "csv", "json"), default="table",
                         help="table (default), csv or json on standard output")
    listing.add_argument("--layer", help="only this facility layer's (with add: the facility's layer)")
    listing.add_argument("--uuid", help="only this facility's (with add: the facility's uuid)")
    adding = p.add_argument_group("recording (inspections add)")
    adding.add_argument("--condition", help="完好/intact, 破损/damaged, 丢失/missing, 废弃/abandoned, 移除/removed")
    adding.add_argument("--defect", help="the defect type (its code or label; the list depends on the layer)")
    adding.add_argument("--note", help="what was found, in words")
    adding.add_argument("--photo", action="append", metavar="FILE", help="a photo (repeat for several)")
    adding.add_argument("--time", type=_time, help="when (ISO 8601 with a zone; default now)")
    adding.add_argument("--inspector", help="who inspected (default: the workspace's user)")
    adding.add_argument("--max-size", type=float, default=50, metavar="MB", help="largest photo accepted (default 50)")
    p.set_defaults(run=cmd_inspections)
