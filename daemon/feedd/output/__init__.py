"""The output folder: documents rendered to FORMAT.md's text, and the durable writes that put
them (and the manifest's lines) on disk."""

# The file name template is the config's ([storage] filename); exported here as before.
from feedd.config import check_filename_template, render_filename
from feedd.output.files import (
    TEMP_SUFFIX,
    append_line,
    drop_torn_last_line,
    remove_temp_files,
    write_atomically,
)
from feedd.output.format import DEFAULT_FILENAME, format_date, render

__all__ = [
    "DEFAULT_FILENAME",
    "TEMP_SUFFIX",
    "append_line",
    "check_filename_template",
    "drop_torn_last_line",
    "format_date",
    "remove_temp_files",
    "render",
    "render_filename",
    "write_atomically",
]
