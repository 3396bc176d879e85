"""The photos commands: add photos to a facility, list them, extract them as files named by hash; adopt the files
of the older one-path photo field."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from layers.cli.console import Commands

if TYPE_CHECKING:
    from layers.media.tables import PhotoLink

__all__ = ["add_commands"]

def cmd_add(args: argparse.Namespace) -> None:
    from layers.media import add_photos
    from layers.media.content import MediaError
    from layers.media.shrink import Shrink
    from layers.workspace.store import Workspace

    if args.quality is not None and args.max_edge is None:
        raise MediaError("--quality needs --max-edge (the longest edge photos are scaled down to)")
    shrink = Shrink(args.max_edge, 85 if args.quality is None else args.quality) if args.max_edge else None
    with Workspace.open(args.workspace) as ws:
        photos = add_photos(ws, args.layer, args.uuid, args.files, max_bytes=int(args.max_size * 1024 * 1024),
                            shrink=shrink)
    for photo, path in zip(photos, args.files, strict=True):
        print(f"added  {photo.sha256}  {photo.size:>10}  {photo.content_type:<16}{path}")
        original = Path(path).stat().st_size
        if shrink is not None and photo.size != original:
            print(f"       scaled down to {shrink.max_edge} px on its longest edge, quality {shrink.quality}: "
                  f"{original:,} -> {photo.size:,} bytes (EXIF kept)")
    print(f"{len(photos)} photo(s) added to {args.layer} {args.uuid}")


def cmd_delete(args: argparse.Namespace) -> None:
    from layers.media.removal import delete_photo
    from layers.workspace.store import Workspace

    with Workspace.open(args.workspace) as ws:
        removed = delete_photo(ws, args.uuid, args.hash, layer=args.layer)
    print(f"deleted photo {removed.sha256} from {removed.layer} {removed.uuid}")
    if removed.media is not None:
        print("its content was dropped from the workspace: no other facility has it")
    if removed.told:
        print("the office takes it off with the next change package")


def _print_links(links: list[PhotoLink], missing: str) -> None:
    header = f"{'sha256':<66}{'size':>10}  {'type':<17}{'layer':<13}{'facility':<38}taken"
    print(header)
    print("-" * len(header))
    for link in links:
        kind = link.content_type if link.stored else missing
        print(f"{link.sha256:<66}{link.size:>10}  {kind:<17}{link.layer:<13}{link.uuid:<38}"
              f"{link.taken_at or ''}")
    print(f"{len(links)} photo(s)")


def cmd_list(args: argparse.Namespace) -> None:
    from layers.media import open_photos
    from layers.media.removal import pending_removals
    from layers.media.tables import photo_links
    from layers.postgres.urls import is_postgres

    if is_postgres(args.source):
        from layers.sync.photos import chosen_links
        from layers.sync.store import open_master

        with open_master(args.source) as store:
            links = chosen_links(store.photos(), store.info.layers, layer=args.layer, uuid=args.uuid)
        _print_links(links, "(not received)")  # a link whose bytes the field has still to send
        return
    with open_photos(args.source) as con:
        links = list(photo_links(con, uuid=args.uuid, layer=args.layer))
        removed = [r for r in pending_removals(con) if args.uuid in (None, r[1]) and args.layer in (None, r[0])]
    _print_links(links, "(master has it)")
    for layer, uuid, sha in removed:
        print(f"{sha:<66}{'':>10}  {'(taken off)':<17}{layer:<13}{uuid}")
    if removed:
        print(f"{len(removed)} photo(s) taken off, for the office to unlink")


def cmd_extract(args: argparse.Namespace) -> None:
    from layers.media import open_photos
    from layers.media.blobs import write_blob_file
    from layers.media.content import MediaError, hash_file_name
    from layers.media.tables import MEDIA_TABLE, media_id, photo_links
    from layers.postgres.urls import is_postgres

    folder = Path(args.dir)
    if is_postgres(args.source):
        written, kept = _extract_from_master(args.source, folder, args.layer, args.uuid)
        print(f"{written} photo(s) written to {folder}" + (f", {kept} already there" if kept else ""))
        return
    written = kept = 0
    folder.mkdir(parents=True, exist_ok=True)
    with open_photos(args.source) as con:
        done: set[str] = set()
        for link in photo_links(con, uuid=args.uuid, layer=args.layer):
            if link.sha256 in done:
                continue
            done.add(link.sha256)
            target = folder / hash_file_name(link.sha256, link.content_type)
            if target.exists() and target.stat().st_size == link.size:
                kept += 1
                continue
            rowid = media_id(con, link.sha256)
            if rowid is None:
                continue  # a change package leaves out the photos the master has
            if write_blob_file(con, MEDIA_TABLE, rowid, target) != link.sha256:  # a piece at a time
                target.unlink()
                raise MediaError(f"{args.source}: photo {link.sha256} is damaged (its content does not match "
                                 "its hash)")
            written += 1
    print(f"{written} photo(s) written to {folder}" + (f", {kept} already there" if kept else ""))


def _extract_from_master(master: str, folder: Path, layer: str | None, uuid: str | None) -> tuple[int, int]:
    """``photos extract`` from a PostGIS master: (photos written, photos already there)."""
    from layers.media.content import MediaError, hash_file_name
    from layers.sync.photos import chosen_links, write_photo_file
    from layers.sync.store import open_master

    written = kept = 0
    with open_master(master) as store:
        photos = store.photos()
        links = chosen_links(photos, store.info.layers, layer=layer, uuid=uuid)
        folder.mkdir(parents=True, exist_ok=True)
        done: set[str] = set()
        for link in links:
            if link.sha256 in done or not link.stored:  # bytes the field has still to send
                continue
            done.add(link.sha256)
            target = folder / hash_file_name(link.sha256, link.content_type)
            if target.exists() and target.stat().st_size == link.size:
                kept += 1
                continue
            try:
                write_photo_file(photos, link.sha256, target)  # a piece at a time
            except MediaError as exc:
                raise MediaError(f"{store.location}: {exc}") from None
            written += 1
    return written, kept


def cmd_adopt(args: argparse.Namespace) -> None:
    from layers.media.legacy import adopt_photo_fields
    from layers.workspace.store import Workspace

    with Workspace.open(args.workspace) as ws:
        found = adopt_photo_fields(ws, max_bytes=int(args.max_size * 1024 * 1024), dry_run=args.dry_run)
    verb = "would move" if args.dry_run else "moved"
    for item in found:
        where = f"{item.layer} {item.uuid} {item.field} {item.value}"
        if item.sha256 is not None:
            print(f"{verb:<11}{where} -> photo {item.sha256[:12]}… (the field {'would be' if args.dry_run else 'is'} "
                  "emptied)")
        else:
            print(f"{'left':<11}{where}: {item.problem}")
    moved = sum(1 for item in found if item.sha256 is not None)
    print(f"{moved} one-path photo(s) {verb} to the photos that travel, {len(found) - moved} left as they are"
          + (" (dry run: nothing changed)" if args.dry_run else ""))


def add_commands(commands: Commands) -> None:
    """Add ``photos add|delete|adopt|list|extract`` to the ``tongcheng`` parser."""
    photos = commands.add_parser("photos",
                                 help="photos and attachments of facilities (add, delete, adopt, list, extract)")
    sub = photos.add_subparsers(dest="photos_command", required=True, metavar="ACTION")

    p = sub.add_parser("add", help="add photo files (JPEG, PNG, GIF, WebP, TIFF) or PDFs to a facility")
    p.add_argument("workspace")
    p.add_argument("--layer", required=True, help="the facility's layer")
    p.add_argument("--uuid", required=True, help="the facility's uuid")
    p.add_argument("--max-size", type=float, default=50, metavar="MB", help="largest file accepted (default 50)")
    p.add_argument("--max-edge", type=int, metavar="N",
                   help="scale photos with a longer edge down to N pixels (EXIF kept); default: store as they are")
    p.add_argument("--quality", type=int, metavar="Q", help="JPEG quality of a scaled photo, 1-95 (default 85)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(run=cmd_add)

    p = sub.add_parser("delete", help="take a photo off a facility (the office follows with the next package)")
    p.add_argument("workspace")
    p.add_argument("--uuid", required=True, help="the facility's uuid")
    p.add_argument("--layer", help="the facility's layer (found by uuid if not given)")
    p.add_argument("hash", help="the photo's sha256 (or its first digits, 6 at least)")
    p.set_defaults(run=cmd_delete)

    p = sub.add_parser("adopt", help="move the files of the older one-path photo field into the photos that "
                                      "travel with changes (the field is emptied)")
    p.add_argument("workspace")
    p.add_argument("--max-size", type=float, default=50, metavar="MB", help="largest file accepted (default 50)")
    p.add_argument("--dry-run", action="store_true", help="check the files and say what would move; change nothing")
    p.set_defaults(run=cmd_adopt)

    for name, helptext in (("list", "list the photos (hash, size, type, facility)"),
                           ("extract", "write the photos into a folder, as files named by their hash")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("source", help="a workspace, master (GeoPackage or postgresql://user@host/db[?schema=name]), "
                                      "change package or exported GeoPackage")
        if name == "extract":
            p.add_argument("dir", help="the folder to write into (made if missing)")
        p.add_argument("--uuid", help="only this facility's photos")
        p.add_argument("--layer", help="only this layer's photos")
        p.set_defaults(run=cmd_list if name == "list" else cmd_extract)
