"""manifest.jsonl: one JSON object per saved document, appended as its file lands (FORMAT.md,
"Metadata"). The keys and their order are fixed here; tests/output/test_manifest.py pins them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """What the manifest says of a document besides its seq, id and file (known once it is saved)."""

    url: str
    canonical_url: str | None
    title: str
    published: datetime | None
    fetched: datetime
    feed: str
    feed_name: str | None
    tags: tuple[str, ...] | None
    guid: str | None
    entry_link: str | None
    language: str | None
    #: "page", or "feed" when the entry's own text stood in (fallback_reason says why).
    source: str
    fallback_reason: str | None
    body_sha256: str

    def line(self, *, seq: int, doc_id: str, file: str, extends: tuple[str, ...] = ()) -> str:
        """The document's manifest line (without its newline). `extends`: the ids of saved
        documents this one holds most of and adds text to (null when none), so that a consumer
        who wants only the fullest version of a story can skip those."""
        fields = {"seq": seq, "id": doc_id, "file": file, **self.as_dict(), "extends": list(extends) or None}
        return json.dumps(fields, ensure_ascii=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields, in manifest order: times in ISO 8601 (fetched to the second)."""
        data = asdict(self)
        data["published"] = self.published.isoformat() if self.published else None
        data["fetched"] = self.fetched.isoformat(timespec="seconds")
        data["tags"] = list(self.tags) if self.tags else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ManifestEntry:
        """The entry `as_dict` gave (documents waiting for the dedup backend keep it so)."""
        values: dict[str, Any] = {field.name: data.get(field.name) for field in fields(cls)}
        published, tags = values["published"], values["tags"]
        values["published"] = datetime.fromisoformat(published) if published else None
        values["fetched"] = datetime.fromisoformat(values["fetched"])
        values["tags"] = tuple(tags) if tags else None
        return cls(**values)

    @classmethod
    def from_line(cls, line: str) -> ManifestEntry | None:
        """The entry a manifest line (as `line` wrote it) holds; None for one that is not."""
        try:
            data = json.loads(line)
            return cls.from_dict(data) if isinstance(data, dict) else None
        except (ValueError, TypeError, KeyError):  # JSONDecodeError is a ValueError
            return None
