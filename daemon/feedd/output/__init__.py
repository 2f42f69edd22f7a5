"""The output folder: documents rendered to FORMAT.md's text, and the durable writes that put
them (and the manifest's lines) on disk. File names come from the [storage] filename template,
checked when the config loads (feedd.config: render_filename, MANIFEST)."""

from feedd.output.files import (
    TEMP_SUFFIX,
    append_line,
    remove_temp_files,
    write_atomically,
)
from feedd.output.format import format_date, render
from feedd.output.manifest import ManifestEntry

__all__ = [
    "ManifestEntry",
    "TEMP_SUFFIX",
    "append_line",
    "format_date",
    "remove_temp_files",
    "render",
    "write_atomically",
]
