"""What feedd did, kept and dropped, and why: the library behind `feedd status`, `feedd dups` and
`feedd explain`.

Reads the state without locking it, so it works beside a running pass.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from feedd.config import Config
from feedd.dedup import DuplicateMatch, Evidence
from feedd.state.core import State
from feedd.state.records import EntryRecord, FeedRecord, HostQueue


@dataclass(frozen=True, slots=True)
class Drop:
    """An entry dropped as a duplicate of a saved document."""

    detected: datetime
    feed: str
    #: The feed's name in the config, where it has one.
    feed_name: str | None
    link: str | None
    title: str | None
    canonical_url: str | None
    duplicate_of: str
    kept_file: str | None
    reason: str
    jaccard: float | None
    containment: float | None
    #: The shared runs that made it a copy, where they were verified.
    evidence: Evidence | None = None
    #: Its key in its feed (with `feed`, what its kept text is found by: State.dropped_texts).
    entry_key: str = ""


@dataclass(frozen=True, slots=True)
class RelatedStory:
    """A saved document a kept one was compared with: the nearest independent write-up, or one
    it extends or is extended by."""

    doc_id: str
    file: str | None
    jaccard: float | None
    containment: float | None
    evidence: Evidence | None


@dataclass(frozen=True, slots=True)
class Extended:
    """A kept document that holds most of an earlier saved one and adds text of its own."""

    saved_at: datetime
    doc_id: str
    file: str | None
    #: The saved document it extends.
    extends: RelatedStory


@dataclass(frozen=True, slots=True)
class KeptDocument:
    seq: int
    doc_id: str
    file: str
    canonical_url: str | None
    feed: str
    feed_name: str | None
    entry_link: str | None
    saved_at: datetime
    nearest: RelatedStory | None = None
    #: Earlier saved documents it holds most of and adds text to.
    extends: tuple[RelatedStory, ...] = ()
    #: Later kept documents that hold most of it and add text to it.
    extended_by: tuple[RelatedStory, ...] = ()


@dataclass(frozen=True, slots=True)
class Explanation:
    """Everything the state says about one document id or URL."""

    query: str
    #: The saved document the query names, if any.
    kept: KeptDocument | None
    #: Entries with that URL that were dropped, and, for a kept document, its dropped copies.
    drops: tuple[Drop, ...]


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """One feed, as `feedd status` shows it."""

    url: str
    name: str | None
    last_polled: datetime | None
    last_result: str | None
    last_error: str | None
    consecutive_errors: int
    next_poll: datetime | None
    interval: float | None
    interval_reason: str | None
    saved: int
    dropped: int
    failed: int
    #: When its current run of failed polls began, where known.
    failing_since: datetime | None = None


def feed_statuses(config: Config) -> list[FeedStatus]:
    """The configured feeds, in config order, with what the state knows of them."""
    with _state(config) as state:
        known = {record.url: record for record in state.feeds.statuses()}
    statuses = []
    for feed in config.feeds:
        record = known.get(feed.url) or _never_polled(feed.url)
        statuses.append(
            FeedStatus(
                url=feed.url,
                name=feed.name,
                last_polled=record.last_polled,
                last_result=record.last_result,
                last_error=record.last_error,
                consecutive_errors=record.consecutive_errors,
                next_poll=record.next_poll if feed.enabled else None,
                interval=record.interval if feed.enabled else None,
                interval_reason=record.interval_reason if feed.enabled else "disabled in the config",
                saved=record.saved,
                dropped=record.dropped,
                failed=record.failed,
                failing_since=record.failing_since,
            )
        )
    return statuses


def host_queues(config: Config) -> list[HostQueue]:
    """The running feedd's per-host queues, as of its last snapshot (none when nothing waits)."""
    with _state(config) as state:
        return state.hosts.current()


def _never_polled(url: str) -> FeedRecord:
    return FeedRecord(
        url=url,
        etag=None,
        last_modified=None,
        last_polled=None,
        last_result="never polled",
        last_error=None,
        consecutive_errors=0,
        next_poll=None,
        interval=None,
        interval_reason=None,
        saved=0,
        dropped=0,
        failed=0,
    )


def recent_drops(config: Config, limit: int = 20, offset: int = 0) -> list[Drop]:
    """The most recent duplicates dropped, newest first (skipping the `offset` newest)."""
    with _state(config) as state:
        names = _feed_names(config)
        return [
            _drop(dropped.entry, dropped.kept_file, names)
            for dropped in state.entries.recent_duplicates(limit, offset)
        ]


def recent_extensions(config: Config, limit: int = 20) -> list[Extended]:
    """The latest kept documents that extend saved ones, newest first."""
    with _state(config) as state:
        listed = []
        for extension in state.extensions.recent(limit):
            document = state.documents.find(extension.doc_id)
            listed.append(
                Extended(
                    saved_at=extension.saved_at,
                    doc_id=extension.doc_id,
                    file=document.file if document else None,
                    extends=_related(state, extension.match),
                )
            )
        return listed


def explain(config: Config, ident: str) -> Explanation:
    """Why the document with this id, canonical URL or entry link was kept or dropped."""
    with _state(config) as state:
        found = state.documents.find(ident)
        kept = None
        if found is not None:
            nearest = _related(state, found.nearest) if found.nearest else None
            # The later document's evidence, read from the earlier one's side.
            extended_by = tuple(
                replace(
                    _related(state, extension.match),
                    doc_id=extension.doc_id,
                    file=_file(state, extension.doc_id),
                )
                for extension in state.extensions.extended_by(found.doc_id)
            )
            kept = KeptDocument(
                seq=found.seq,
                doc_id=found.doc_id,
                file=found.file,
                canonical_url=found.canonical_url,
                feed=found.feed_url,
                feed_name=_feed_names(config).get(found.feed_url),
                entry_link=found.entry_link,
                saved_at=found.saved_at,
                nearest=nearest,
                extends=tuple(
                    _related(state, extension.match) for extension in state.extensions.of(found.doc_id)
                ),
                extended_by=extended_by,
            )
        drops = [entry for entry in state.entries.find(ident) if entry.status == "duplicate"]
        if kept is not None:
            drops += [entry for entry in state.entries.find(kept.doc_id) if entry.status == "duplicate"]
        unique = {(entry.feed_url, entry.entry_key): entry for entry in drops}
        files = {}
        for doc_id in {entry.document_id for entry in unique.values() if entry.document_id}:
            if document := state.documents.find(doc_id):
                files[doc_id] = document.file
        return Explanation(
            query=ident,
            kept=kept,
            drops=tuple(
                _drop(entry, files.get(entry.document_id or ""), _feed_names(config))
                for entry in unique.values()
            ),
        )


def _related(state: State, match: DuplicateMatch) -> RelatedStory:
    return RelatedStory(
        doc_id=match.document_id,
        file=_file(state, match.document_id),
        jaccard=match.jaccard,
        containment=match.containment,
        evidence=match.evidence,
    )


def _file(state: State, doc_id: str) -> str | None:
    document = state.documents.find(doc_id)
    return document.file if document else None


def _state(config: Config) -> State:
    return State(config.database, config.output_dir, config.storage.filename, read_only=True)


def _feed_names(config: Config) -> dict[str, str]:
    return {feed.url: feed.name for feed in config.feeds if feed.name}


def _drop(entry: EntryRecord, kept_file: str | None, names: dict[str, str]) -> Drop:
    return Drop(
        detected=entry.last_seen,
        feed=entry.feed_url,
        feed_name=names.get(entry.feed_url),
        link=entry.link,
        title=entry.title,
        canonical_url=entry.canonical_url,
        duplicate_of=entry.document_id or "",
        kept_file=kept_file,
        reason=entry.reason or "",
        jaccard=entry.jaccard,
        containment=entry.containment,
        evidence=entry.evidence,
        entry_key=entry.entry_key,
    )
