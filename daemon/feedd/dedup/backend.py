"""The one seam between the pipeline and duplicate detection: a backend that checks a candidate,
is told what was saved, and forgets what falls out of the time window. `open_backend` is the only
place that knows there are two: the local index in the state (`LocalIndex`), and the index in
Redis shared by several instances (`SharedIndex`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from feedd.dedup.exact import SavedDocuments
from feedd.dedup.fingerprint import Fingerprinter
from feedd.dedup.records import Candidate, Verdict
from feedd.errors import ConfigError

if TYPE_CHECKING:
    from feedd.config import DedupConfig
    from feedd.dedup.near import FingerprintStore


class DedupBackend(Protocol):
    """Where duplicates are decided. Coroutines, as the shared index waits on Redis; the local
    index answers at once."""

    #: Computes the fingerprints this backend compares; None when it compares none (exact
    #: duplicates only).
    @property
    def fingerprinter(self) -> Fingerprinter | None: ...

    async def check(self, candidate: Candidate, document_id: str) -> Verdict:
        """The verdict on `candidate`, to be saved as `document_id` if kept. Raises
        feedd.errors.DedupUnavailableError when the backend cannot answer now (the document waits)."""
        ...

    async def commit(self, candidate: Candidate, document_id: str, seq: int) -> None:
        """`candidate`, found new, was saved as `document_id` with `seq`."""
        ...

    async def evict(self, older_than: datetime) -> int:
        """Forget documents saved before `older_than`; how many were forgotten."""
        ...

    async def close(self) -> None: ...


def open_backend(
    config: DedupConfig, saved: SavedDocuments, fingerprints: FingerprintStore, *, instance_id: str
) -> DedupBackend:
    """The backend `config` names, over this instance's state."""
    from feedd.dedup.near import Thresholds  # datasketch is loaded only where a backend is opened

    thresholds = Thresholds.of(config)
    if config.shared:
        try:
            from feedd.dedup.shared import SharedIndex
        except ModuleNotFoundError as exc:
            if exc.name != "redis":
                raise
            raise ConfigError(f"dedup.backend: {_NO_REDIS}") from None
        return SharedIndex(
            config.shared, thresholds, saved=saved, owner=instance_id, namespace=config.namespace
        )
    from feedd.dedup.local import LocalIndex

    near = fingerprints if config.near_duplicates else None
    return LocalIndex(saved, near, thresholds, window=timedelta(seconds=config.window))


#: Why a Redis backend cannot be used where the client library is missing (an optional extra).
_NO_REDIS = "a Redis URL needs the redis client, which this install lacks: pip install 'feedd[redis]'"


def shared_index_problem(url: str) -> str | None:
    """Why the shared index at `url` cannot be used now, or None when it answers."""
    try:
        from feedd.dedup.shared import check_reachable
    except ModuleNotFoundError as exc:
        if exc.name != "redis":
            raise
        return _NO_REDIS
    return check_reachable(url)
