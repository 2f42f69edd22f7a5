"""Refusing DTDs: a DOCTYPE's internal subset is where entity declarations live, and entity
declarations are how billion-laughs and XXE payloads arrive. News feeds and OPML files never
need one.

The check is expat's own reading of the prolog (the same parser feedparser and ElementTree use),
so comments, padding and UTF-16 read exactly as they will when the document is parsed; it stops
at the root element, so its cost does not grow with the document.
"""

from __future__ import annotations

import re
from xml.parsers import expat

#: feedparser's own split of a document into its prolog and the rest (feedparser.sanitizer).
_FIRST_ELEMENT = re.compile(rb"<\w")


class _DtdFound(Exception):
    pass


class _RootReached(Exception):
    pass


def declares_dtd(document: bytes) -> bool:
    """True when the document's DOCTYPE has an internal subset or it declares an entity. A DOCTYPE
    that only names an external DTD (RSS 0.91's) is fine: nothing fetches it.

    The text before the first element, as feedparser splits it, must not hold "<!ENTITY" either,
    wherever expat would put it (a comment) and when expat cannot read the prolog at all."""
    parser = expat.ParserCreate()

    def on_doctype(
        name: str, system_id: str | None, public_id: str | None, has_internal_subset: bool
    ) -> None:
        if has_internal_subset:
            raise _DtdFound

    def on_entity(*declaration: object) -> None:
        raise _DtdFound

    def on_root(name: str, attributes: dict[str, str]) -> None:
        raise _RootReached

    parser.StartDoctypeDeclHandler = on_doctype
    parser.EntityDeclHandler = on_entity
    parser.StartElementHandler = on_root
    try:
        parser.Parse(document, True)
    except _DtdFound:
        return True
    except (_RootReached, expat.ExpatError):
        pass
    # feedparser reads entity declarations out of the prolog with a regular expression (inside
    # a comment too) and puts them back into a DOCTYPE of its own: none may be there at all.
    first = _FIRST_ELEMENT.search(document)
    return b"<!ENTITY" in document[: first.start() if first else len(document)]
