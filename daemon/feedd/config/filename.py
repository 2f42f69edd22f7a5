"""The documents' file name template ([storage] filename): how it is rendered, and the check
that it names one relative path per document, made when the config loads."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import PurePosixPath

#: The manifest's name in the output folder, which no document may take.
MANIFEST = "manifest.jsonl"


def render_filename(template: str, *, seq: int, doc_id: str, day: date | datetime) -> str:
    """The document's path under the output folder, from the configured template."""
    return template.format(seq=seq, id=doc_id, date=day)


def check_filename_template(template: str) -> None:
    """Raise ValueError unless `template` names a relative path that is unique per document."""
    if "{seq" not in template:
        raise ValueError('the file name template must contain {seq} (e.g. "{seq:03d}_{id}.txt")')
    try:
        sample = render_filename(template, seq=1, doc_id="0123456789abcdef", day=datetime(2024, 12, 31))
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise ValueError(f"bad file name template: {exc} (fields: seq, id, date)") from None
    path = PurePosixPath(sample)
    if path.is_absolute() or ".." in path.parts or not path.name:
        raise ValueError("the file name template must give a relative path inside output_dir")
    if path.name == MANIFEST:
        raise ValueError(f"the file name template must not produce {MANIFEST}")
