"""The commands that edit the feed list: add, remove, import-opml, export-opml."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from feedd.cli.options import ConfigOption, load
from feedd.cli.views import out, printable
from feedd.config import redacted_url
from feedd.errors import ConfigError, FetchError


def add_command(
    url: Annotated[str, typer.Argument(help="A feed's URL, or a site's page to find its feeds on.")],
    config: ConfigOption = None,
    name: Annotated[
        Optional[str],  # noqa: UP045 - typer reads the annotation at run time
        typer.Option("--name", help="The feed's name in logs and status."),
    ] = None,
    tags: Annotated[
        Optional[list[str]],  # noqa: UP045 - typer reads the annotation at run time
        typer.Option("--tag", help="A tag for its documents (repeatable)."),
    ] = None,
    as_is: Annotated[bool, typer.Option("--as-is", help="Add the URL without fetching it.")] = False,
) -> None:
    """Add a feed to the config (comments and layout kept). A site's page is searched for its
    feeds; with several, feedd asks which (on a terminal) or lists them."""
    from feedd.config import add_feed
    from feedd.pipeline import discover_feeds

    loaded = load(config)
    chosen = url
    if not as_is:
        try:
            found = asyncio.run(discover_feeds(loaded, url))
        except FetchError as exc:
            raise ConfigError(f"cannot fetch {url}: {exc.reason}") from None
        if not found:
            raise ConfigError(
                f"{url} is not a feed, and its page announces none (add it anyway with --as-is)"
            )
        if len(found) == 1:
            chosen, title = found[0].url, found[0].title
        else:
            listed = "\n".join(
                f"  {n}. {feed.url}" + (f" ({feed.title})" if feed.title else "")
                for n, feed in enumerate(found, 1)
            )
            if not sys.stdin.isatty():
                raise ConfigError(f"{url} has {len(found)} feeds; add one of them:\n{printable(listed)}")
            out.print(printable(f"{url} has {len(found)} feeds:\n{listed}"), highlight=False, markup=False)
            pick = typer.prompt("which one (number)", type=int, default=1)
            if not 1 <= pick <= len(found):
                raise ConfigError(f"no feed {pick}: choose 1 to {len(found)}")
            chosen, title = found[pick - 1].url, found[pick - 1].title
        name = name or title
    add_feed(loaded.path, chosen, name=name, tags=tuple(tags or ()))
    out.print(
        printable(
            f"added {redacted_url(chosen)}" + (f" ({name})" if name else "") + f" to {loaded.path}; "
            "a running feedd picks it up on reload (systemctl reload feedd, or SIGHUP)"
        ),
        highlight=False,
        markup=False,
    )


def remove_command(
    feed: Annotated[str, typer.Argument(help="The feed's URL or name.")],
    config: ConfigOption = None,
) -> None:
    """Remove a feed from the config (comments and layout kept); its documents stay."""
    from feedd.config import remove_feed

    loaded = load(config)
    url = remove_feed(loaded.path, feed)
    out.print(printable(f"removed {url} from {loaded.path}"), highlight=False, markup=False)


def import_opml_command(
    opml_file: Annotated[Path, typer.Argument(help="An OPML file exported by a feed reader.")],
    config: ConfigOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be added; change nothing.")
    ] = False,
) -> None:
    """Add the feeds of an OPML file to the config (those it does not list yet); its folders
    become the feeds' tags, and outlines left out are listed with the reason."""
    loaded = load(config)
    from feedd.feeds import add_to_config, read_opml

    listed = read_opml(opml_file)
    added = add_to_config(loaded.path, listed.feeds, dry_run=dry_run)
    verb = "would add" if dry_run else "added"
    for feed in added:
        tags = f" [{', '.join(feed.tags)}]" if feed.tags else ""
        title = f" ({feed.title})" if feed.title else ""
        out.print(printable(f"{verb} {redacted_url(feed.url)}{title}{tags}"), highlight=False, markup=False)
    for outline in listed.skipped:
        what = redacted_url(outline.url) if outline.url else outline.title or "an outline"
        out.print(printable(f"skipped {what}: {outline.reason}"), highlight=False, markup=False)
    out.print(
        f"{len(added)} feed(s) {'would be added' if dry_run else 'added'} to {loaded.path}"
        + (f", {len(listed.skipped)} outline(s) skipped" if listed.skipped else ""),
        highlight=False,
        markup=False,
    )


def export_opml_command(
    config: ConfigOption = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here, not to stdout.")] = None,
) -> None:
    """Write the config's feeds as OPML, for other feed readers."""
    from feedd.feeds import to_opml

    document = to_opml(load(config))
    if output is None:
        sys.stdout.write(document)
    else:
        output.write_text(document, encoding="utf-8")
