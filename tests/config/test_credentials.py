"""Basic-auth files under systemd: a relative name is read from the unit's credentials
($CREDENTIALS_DIRECTORY, filled by LoadCredential=) when one was loaded, so the file on disk can stay
readable by root alone; otherwise from beside the config, as outside systemd."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedd.config import load_config
from feedd.errors import ConfigError

URL = "https://example.org/feed"


def _config(folder: Path, file: str) -> Path:
    path = folder / "feedd.toml"
    path.write_text(f'[[feeds]]\nurl = "{URL}"\nbasic_auth = {{ file = "{file}" }}\n', encoding="utf-8")
    return path


@pytest.fixture
def credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder systemd hands the service in $CREDENTIALS_DIRECTORY."""
    folder = tmp_path / "credentials"
    folder.mkdir()
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(folder))
    return folder


def test_a_relative_file_is_read_from_the_credentials_first(tmp_path: Path, credentials: Path) -> None:
    (credentials / "dw.auth").write_text("reader:from-systemd\n")
    # The same name beside the config: what a run outside systemd would read.
    (tmp_path / "dw.auth").write_text("reader:beside-the-config\n")
    login = load_config(_config(tmp_path, "dw.auth")).credentials[URL]
    assert (login.username, login.password) == ("reader", "from-systemd")


def test_a_file_in_a_loaded_folder_is_found_under_the_name_systemd_gives_it(
    tmp_path: Path, credentials: Path
) -> None:
    # LoadCredential=basic-auth:/etc/feedd/basic-auth loads basic-auth/dw as "basic-auth_dw"; the
    # config names the file as it is on disk, which also works outside systemd.
    (credentials / "basic-auth_dw").write_text("reader:from-the-folder\n")
    login = load_config(_config(tmp_path, "basic-auth/dw")).credentials[URL]
    assert login.password == "from-the-folder"


def test_without_such_a_credential_the_file_beside_the_config_is_read(
    tmp_path: Path, credentials: Path
) -> None:
    (tmp_path / "basic-auth").mkdir()
    (tmp_path / "basic-auth" / "dw").write_text("reader:beside-the-config\n")
    assert load_config(_config(tmp_path, "basic-auth/dw")).credentials[URL].password == "beside-the-config"


def test_an_absolute_file_is_never_looked_up_among_the_credentials(tmp_path: Path, credentials: Path) -> None:
    (credentials / "_etc_dw.auth").write_text("reader:from-systemd\n")
    (tmp_path / "dw.auth").write_text("reader:on-disk\n")
    assert load_config(_config(tmp_path, str(tmp_path / "dw.auth"))).credentials[URL].password == "on-disk"


def test_a_name_cannot_climb_out_of_the_credentials(tmp_path: Path, credentials: Path) -> None:
    (credentials / ".._secret").write_text("reader:inside\n")
    (tmp_path / "secret").write_text("reader:outside\n")
    # "../secret" is the credential ".._secret", never credentials/../secret.
    assert load_config(_config(credentials, "../secret")).credentials[URL].password == "inside"


def test_a_missing_credential_names_the_file_read_at_last(tmp_path: Path, credentials: Path) -> None:
    with pytest.raises(ConfigError, match=r"feeds\[0\]\.basic_auth\.file: cannot read .*missing\.auth"):
        load_config(_config(tmp_path, "missing.auth"))
