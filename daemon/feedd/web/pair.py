"""Two documents side by side, their shared runs marked in both: a dropped entry and the kept
document it copies, or a kept document and the nearest independent write-up or a document it
extends. The runs, shares and numbers are `feedd explain`'s (feedd.state.explain); the texts are
the dedup texts the runs were counted in (title, lead, body), kept with the fingerprints for the
dedup window, and a near duplicate's own for as long (State.dropped_texts). Where a dropped
entry's text is not kept (dropped before feedd kept it, or out of the window), its side shows the
runs it shares, in its own order, between the counts of words it has around them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from feedd.config import Config
from feedd.dedup import Evidence, SharedRun
from feedd.state import Drop, RelatedStory
from feedd.web.highlight import Segment, marked, run_segments, word_spans
from feedd.web.pages import Relation, explanation, related_by_id
from feedd.web.queries import dedup_text, document_file, dropped_text

#: How each relation names the two sides: the measured (new) one, then the saved one.
_ROLES: dict[Relation, tuple[str, str]] = {
    "duplicate": ("dropped entry", "kept document"),
    "extends": ("this document", "the document it extends"),
    "nearest": ("this document", "its nearest independent write-up"),
    "extended_by": ("the later document", "this document"),
}


@dataclass(frozen=True, slots=True)
class PairSide:
    role: str
    title: str | None
    doc_id: str | None
    file: str | None
    link: str | None
    feed: str | None
    when: datetime | None
    #: Its text with the shared runs marked; for a dropped entry, the runs between its own words.
    segments: tuple[Segment, ...]
    #: Whether `segments` hold its whole text; `note` says why not.
    complete: bool
    note: str = ""


@dataclass(frozen=True, slots=True)
class PairView:
    relation: Relation
    reason: str
    new: PairSide
    saved: PairSide
    jaccard: float | None
    containment: float | None
    evidence: Evidence | None
    #: The evidence in one line, as `feedd explain` prints it.
    summary: str | None
    #: The kept document the page belongs to.
    kept_id: str


def drop_pair(config: Config, kept_id: str, feed: str, link: str) -> PairView | None:
    """The dropped entry of `feed` with `link` beside the kept document `kept_id` it copies."""
    found = explanation(config, kept_id)
    if found.kept is None:
        return None
    drop = next((d for d in found.drops if d.feed == feed and (d.link or "") == link), None)
    if drop is None:
        return None
    evidence = drop.evidence
    runs = evidence.runs if evidence else ()
    kept = found.kept
    kept_document = replace(
        _document(config, kept.doc_id),
        feed=kept.feed_name or kept.feed,
        link=kept.canonical_url or kept.entry_link,
    )
    new_role, saved_role = _ROLES["duplicate"]
    said = dropped_text(config, drop.feed, drop.entry_key) if evidence else None
    dropped = None
    if said is not None:
        whole = _Document(
            doc_id=None,
            file=None,
            title=drop.title,
            when=drop.detected,
            text=said,
            feed=drop.feed_name or drop.feed,
            link=drop.link,
        )
        dropped = _side(new_role, whole, runs, saved_side=False)
    if dropped is None or not dropped.complete:
        dropped = _dropped_side(drop, kept_document.text, new_role)
    return PairView(
        relation="duplicate",
        reason=drop.reason,
        new=dropped,
        saved=_side(saved_role, kept_document, runs, saved_side=True),
        jaccard=drop.jaccard,
        containment=drop.containment,
        evidence=evidence,
        summary=evidence.summary(new_role, saved_role) if evidence else None,
        kept_id=found.kept.doc_id,
    )


def related_pair(config: Config, doc_id: str, other_id: str) -> PairView | None:
    """The kept document `doc_id` beside a document its explanation relates it to."""
    found = explanation(config, doc_id)
    related = related_by_id(found, other_id)
    if related is None or found.kept is None:
        return None
    relation, story = related
    this = _document(config, found.kept.doc_id)
    other = _document(config, story.doc_id)
    new, saved = (other, this) if relation == "extended_by" else (this, other)
    new_role, saved_role = _ROLES[relation]
    runs = story.evidence.runs if story.evidence else ()
    return PairView(
        relation=relation,
        reason=_reason(relation, story),
        new=_side(new_role, new, runs, saved_side=False),
        saved=_side(saved_role, saved, runs, saved_side=True),
        jaccard=story.jaccard,
        containment=story.containment,
        evidence=story.evidence,
        summary=story.evidence.summary(new_role, saved_role) if story.evidence else None,
        kept_id=found.kept.doc_id,
    )


@dataclass(frozen=True, slots=True)
class _Document:
    """A document as a side of a pair names it (a dropped entry has no id nor file), and its
    dedup text."""

    doc_id: str | None
    file: str | None
    title: str | None
    when: datetime | None
    text: str | None
    feed: str | None = None
    link: str | None = None


def _document(config: Config, doc_id: str, text: str | None = None) -> _Document:
    saved = document_file(config, doc_id)
    return _Document(
        doc_id=doc_id,
        file=saved.file if saved else None,
        title=saved.title if saved else None,
        when=saved.saved_at if saved else None,
        text=text if text is not None else dedup_text(config, doc_id),
    )


def _side(role: str, document: _Document, runs: tuple[SharedRun, ...], *, saved_side: bool) -> PairSide:
    text = document.text
    segments = marked(text, runs, saved_side=saved_side) if text is not None else None
    note = ""
    if segments is None:
        note = (
            "its dedup text is no longer kept (older than the dedup window): the runs are listed below"
            if text is None
            else "its words could not be placed in the text: the runs are listed below"
        )
    return PairSide(
        role=role,
        title=document.title,
        doc_id=document.doc_id,
        file=document.file,
        link=document.link,
        feed=document.feed,
        when=document.when,
        segments=tuple(segments or ()),
        complete=segments is not None,
        note=note,
    )


def _dropped_side(drop: Drop, kept_text: str | None, role: str) -> PairSide:
    """The runs a dropped entry shares, in its order, with the counts of its words between them."""
    evidence = drop.evidence
    segments: list[Segment] = []
    note = (
        "its text is not kept (dropped before this feedd kept it, or older than the dedup window): "
        "its shared runs, in its order, between its other words"
    )
    if evidence is None:
        note = "dropped on its URL or body hash: no shared runs were measured"
    else:
        ranks = {id(run): rank for rank, run in enumerate(evidence.runs, start=1)}
        spans = word_spans(kept_text) if kept_text is not None else None
        position = 0
        for run in sorted(evidence.runs, key=lambda run: run.start):
            if run.start > position:
                segments.append(_gap(run.start - position))
            elif segments:  # two runs that touch: copied from two places of the kept text
                segments.append(Segment(" "))
            shown = None
            if kept_text is not None and spans is not None:
                shown = run_segments(kept_text, spans, run, ranks[id(run)])
            segments += shown or [Segment(run.excerpt, "shared", ranks[id(run)])]
            position = run.start + run.length
        if evidence.words > position:
            segments.append(_gap(evidence.words - position))
        if evidence.run_count > len(evidence.runs):
            note += f"; {evidence.run_count - len(evidence.runs)} shorter run(s) are not kept"
    return PairSide(
        role,
        drop.title,
        None,
        None,
        drop.link,
        drop.feed_name or drop.feed,
        drop.detected,
        tuple(segments),
        False,
        note,
    )


def _gap(words: int) -> Segment:
    return Segment(f" [{words} word{'s' if words != 1 else ''} not shared] ", "gap")


def _reason(relation: Relation, story: RelatedStory) -> str:
    if relation == "nearest":
        return "independent write-up"
    return "extends" if relation == "extends" else "extended by"
