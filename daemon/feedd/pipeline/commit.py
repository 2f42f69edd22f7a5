"""Committing an entry's outcome: the dedup backend's verdict, then the entry recorded as failed,
dropped as a duplicate, saved, or kept waiting for the backend; and the documents that waited,
decided once the backend answers again."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from feedd.dedup import Candidate, DedupBackend, DuplicateMatch, FingerprintRecord
from feedd.errors import DedupUnavailableError
from feedd.extract import Article, ExtractionFailure
from feedd.feeds import Entry, document_id
from feedd.output import ManifestEntry, render
from feedd.pipeline.pages import AlreadySaved, PageOutcome
from feedd.pipeline.poll import PolledFeed
from feedd.pipeline.report import EntryStatus, FeedReport
from feedd.state import NewDocument, State

log = logging.getLogger("feedd")


@dataclass(frozen=True, slots=True)
class Drained:
    """What became of the documents that waited for the dedup backend."""

    saved: int = 0
    dropped: int = 0


class Committer:
    """Commits entries one at a time, in the order the pass fixes."""

    def __init__(self, state: State, dedup: DedupBackend) -> None:
        self._state = state
        self._dedup = dedup
        # One entry from verdict to save at a time: the shared index's check waits on Redis, and
        # a second feed's copy of the same story must not be checked before the first is saved
        # (both would be found new). The daemon settles several feeds' polls at once.
        self._one_at_a_time = asyncio.Lock()

    async def commit(self, report: FeedReport, entry: Entry, outcome: PageOutcome) -> EntryStatus:
        async with self._one_at_a_time:
            return await self._commit(report, entry, outcome)

    async def _commit(self, report: FeedReport, entry: Entry, outcome: PageOutcome) -> EntryStatus:
        feed_url = report.feed.url
        if isinstance(outcome, AlreadySaved):
            return self._same_url(report, entry, outcome.document_id)
        # Saved by an entry committed before this one, since its page work began.
        if entry.canonical_link and (
            earlier := self._state.documents.document_id_by_url(entry.canonical_link)
        ):
            return self._same_url(report, entry, earlier)
        if isinstance(outcome, ExtractionFailure):
            self._state.entries.record_failure(feed_url, entry.key, entry.link, outcome.reason)
            report.failed += 1
            report.failures.append((entry.link or entry.key, outcome.reason))
            log.warning(
                "feed %s: entry %s failed: %s",
                report.feed.label,
                entry.link or entry.key,
                outcome.reason,
                extra={
                    "feed": report.feed.label,
                    "url": entry.link,
                    "status": "failed",
                    "reason": outcome.reason,
                },
            )
            return "failed"
        article, candidate = outcome.article, outcome.candidate
        doc_id = document_id(article.canonical_url or f"{feed_url}#{entry.key}")
        try:
            verdict = await self._dedup.check(candidate, doc_id)
        except DedupUnavailableError as exc:
            # No dedup decision, no save: the rendered document waits in the state, and the
            # entry is not fetched again nor does it use up its tries.
            reason = f"waiting for the shared dedup index ({exc})"
            document = self._new_document(doc_id, report, entry, article, candidate)
            self._state.waiting.queue(document, candidate.body_words)
            self._state.entries.record_failure(feed_url, entry.key, entry.link, reason, count_attempt=False)
            report.waiting += 1
            log.error("feed %s: entry %s: %s", report.feed.label, entry.link or entry.key, reason)
            return "waiting"
        if match := verdict.duplicate_of:
            self._record_drop(
                feed_url, entry.key, entry.link, article.title, article.canonical_url, match, candidate
            )
            report.duplicate += 1
            return "duplicate"
        if article.source == "feed":
            report.from_feed_text[article.fallback_reason or "no page"] += 1
            log.info(
                "feed %s: %s saved from the feed's own text: %s",
                report.feed.label,
                entry.link,
                article.fallback_reason,
                extra={"feed": report.feed.label, "url": entry.link, "reason": article.fallback_reason},
            )
        document = self._new_document(doc_id, report, entry, article, candidate)
        saved = self._state.documents.save(document, nearest=verdict.nearest, extends=verdict.extends)
        await self._dedup.commit(candidate, saved.doc_id, saved.seq)
        report.saved += 1
        return "saved"

    def _same_url(self, report: FeedReport, entry: Entry, saved_as: str) -> EntryStatus:
        self._state.entries.record_duplicate(
            report.feed.url,
            entry.key,
            entry.link,
            DuplicateMatch(saved_as, "same canonical URL"),
            title=entry.title,
            canonical_url=entry.canonical_link,
        )
        report.duplicate += 1
        return "duplicate"

    def finish(self, polled: PolledFeed) -> None:
        """Every entry of a feed polled "ok" is committed: store its validators, unless an entry
        failed. A 304 next time must not hide entries this pass did not finish (a crash) or
        should retry (a failure)."""
        report = polled.report
        if report.result != "ok":
            return
        settled = report.failed == 0
        self._state.feeds.record_poll(
            report.feed.url,
            result="ok",
            etag=polled.etag if settled else None,
            last_modified=polled.last_modified if settled else None,
            clear_validators=not settled,
        )

    async def drain_waiting(self) -> Drained:
        """Decide on the documents that waited for the dedup backend. Stops at the first one it
        cannot answer for; the rest wait on."""
        async with self._one_at_a_time:
            return await self._drain_waiting()

    async def _drain_waiting(self) -> Drained:
        saved = dropped = 0
        fingerprinter = self._dedup.fingerprinter
        for waiting in self._state.waiting.documents():
            document = waiting.document
            fingerprint = None
            if document.fingerprint is not None and fingerprinter is not None:
                fingerprint = fingerprinter.fingerprint(document.fingerprint.plain_text())
            candidate = Candidate(document.canonical_url, document.body_hash, waiting.body_words, fingerprint)
            try:
                verdict = await self._dedup.check(candidate, document.doc_id)
            except DedupUnavailableError as exc:
                log.warning("%d document(s) still wait: %s", self._state.waiting.count(), exc)
                break
            if match := verdict.duplicate_of:
                self._record_drop(
                    document.feed_url,
                    document.entry_key,
                    document.entry_link,
                    document.manifest.title,
                    document.canonical_url,
                    match,
                    candidate,
                )
                dropped += 1
            else:
                saved_document = self._state.documents.save(
                    document, nearest=verdict.nearest, extends=verdict.extends
                )
                await self._dedup.commit(candidate, saved_document.doc_id, saved_document.seq)
                saved += 1
            self._state.waiting.remove(document.feed_url, document.entry_key)
        if saved or dropped:
            log.info("documents that waited for the shared index: %d saved, %d dropped", saved, dropped)
        return Drained(saved, dropped)

    def _record_drop(
        self,
        feed_url: str,
        entry_key: str,
        link: str | None,
        title: str | None,
        canonical_url: str,
        match: DuplicateMatch,
        candidate: Candidate,
    ) -> None:
        self._state.entries.record_duplicate(
            feed_url, entry_key, link, match, title=title, canonical_url=canonical_url
        )
        if match.evidence is not None and candidate.fingerprint is not None:
            # What a near duplicate said, to be read beside what it copies (the web view's pair);
            # an exact duplicate says what the saved document says.
            self._state.dropped_texts.keep(
                feed_url, entry_key, FingerprintRecord.of(candidate.fingerprint), datetime.now(UTC)
            )
        kept_as = self._state.documents.file_of(match.document_id) or match.document_id
        log.info(
            "%s dropped: %s of %s (%s)",
            link or title,
            match.reason,
            kept_as,
            title or "",
            extra={
                "url": link,
                "status": "duplicate",
                "doc_id": match.document_id,
                "file": kept_as,
                "reason": match.reason,
            },
        )

    @staticmethod
    def _new_document(
        doc_id: str, report: FeedReport, entry: Entry, article: Article, candidate: Candidate
    ) -> NewDocument:
        feed_url = report.feed.url
        fetched = datetime.now(UTC)
        published = entry.published or (
            datetime(article.published.year, article.published.month, article.published.day, tzinfo=UTC)
            if article.published
            else None
        )
        return NewDocument(
            doc_id=doc_id,
            canonical_url=article.canonical_url,
            body_hash=candidate.body_hash,
            text=render(article),
            filename_date=published or fetched,
            feed_url=feed_url,
            entry_key=entry.key,
            entry_link=entry.link,
            manifest=ManifestEntry(
                url=article.url,
                canonical_url=article.canonical_url or None,
                title=article.title,
                published=published,
                fetched=fetched,
                feed=feed_url,
                feed_name=report.feed.name,
                tags=tuple(report.feed.tags) or None,
                guid=entry.guid,
                entry_link=entry.link,
                language=article.language,
                source=article.source,
                fallback_reason=article.fallback_reason,
                body_sha256=candidate.body_hash,
            ),
            fingerprint=(
                FingerprintRecord.of(candidate.fingerprint) if candidate.fingerprint is not None else None
            ),
        )
