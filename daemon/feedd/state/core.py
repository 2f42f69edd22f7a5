"""`State`: the state database and the output folder of one feedd installation, opened together,
with one repository per table."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from feedd.errors import StateError
from feedd.state.database import Database
from feedd.state.documents import Documents
from feedd.state.dropped_texts import DroppedTexts
from feedd.state.entries import Entries
from feedd.state.extensions import Extensions
from feedd.state.feeds import Feeds
from feedd.state.fingerprints import Fingerprints
from feedd.state.hosts import HostQueues
from feedd.state.robots import RobotsFiles
from feedd.state.waiting import Waiting


class State:
    """Open it (or use it as a context manager), then read and write through its repositories."""

    def __init__(
        self,
        database: Path,
        output_dir: Path,
        filename_template: str,
        *,
        log_duplicates: bool = False,
        read_only: bool = False,
    ) -> None:
        self.output_dir = output_dir
        #: Read-only states take no lock, so `feedd dups` and `explain` work beside a running pass.
        self.read_only = read_only
        self.db = Database(database)
        self.feeds = Feeds(self.db)
        self.entries = Entries(self.db, output_dir, log_duplicates=log_duplicates)
        self.fingerprints = Fingerprints(self.db)
        self.dropped_texts = DroppedTexts(self.db)
        self.extensions = Extensions(self.db)
        self.documents = Documents(
            self.db, output_dir, filename_template, self.entries, self.fingerprints, self.extensions
        )
        self.waiting = Waiting(self.db)
        self.robots = RobotsFiles(self.db)
        self.hosts = HostQueues(self.db)

    def open(self) -> State:
        """Lock the state, create what is missing, and finish any interrupted save."""
        if self.read_only:
            self.db.open_read_only()
            return self
        for folder, what in ((self.db.path.parent, "database folder"), (self.output_dir, "output_dir")):
            if folder.exists() and not folder.is_dir():
                raise StateError(f"{what} {folder} exists and is not a folder")
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StateError(f"cannot create {what} {folder}: {exc.strerror}") from None
        if not os.access(self.output_dir, os.W_OK):
            raise StateError(f"output_dir {self.output_dir} is not writable")
        self.db.open()
        try:
            self.documents.recover()
        except sqlite3.Error as exc:
            self.db.close()
            raise StateError(f"state database {self.db.path}: {exc}") from None
        except BaseException:
            self.db.close()
            raise
        return self

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> State:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def instance_id(self) -> str:
        """This state's identity, made on first use: which feedd instance claimed a story."""
        return self.db.instance_id()
