"""Config loading: defaults, relative paths, and errors that name the key and its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedd.config import load_config, parse_duration
from feedd.errors import ConfigError

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "feedd.toml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feedd.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_example_is_valid_and_lists_the_real_news_feeds() -> None:
    config = load_config(SHIPPED)
    urls = [feed.url for feed in config.feeds]
    assert "https://rss.dw.com/xml/rss-en-all" in urls and "https://feeds.npr.org/1004/rss.xml" in urls
    assert len(urls) == 7
    assert config.fetch.allow_private_networks is False and config.fetch.max_per_host == 2
    assert config.output_dir == SHIPPED.parent / "articles"


def test_defaults_and_paths_relative_to_the_config_folder(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, '[[feeds]]\nurl = "https://example.org/feed"\n'))
    assert config.output_dir == tmp_path / "articles"
    assert config.database == tmp_path / "feedd.sqlite3"
    assert config.storage.filename == "{seq:03d}_{id}.txt"
    assert config.fetch.max_bytes == 10 * 1024 * 1024
    assert config.feeds[0].label == "https://example.org/feed"


def test_absolute_paths_stay_absolute(tmp_path: Path) -> None:
    text = f'[storage]\noutput_dir = "{tmp_path}/docs"\n[[feeds]]\nurl = "https://example.org/feed"\n'
    assert load_config(_write(tmp_path, text)).output_dir == tmp_path / "docs"


def test_unknown_key_is_named_with_its_line(tmp_path: Path) -> None:
    text = (
        '[fetch]\nmax_per_host = 2\n\n[[feeds]]\nurl = "https://a.example/rss"\n\n'
        '[[feeds]]\nurl = "https://b.example/rss"\nnmae = "B"\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, text))
    message = str(caught.value)
    assert f"{tmp_path / 'feedd.toml'}:9: feeds[1].nmae: unknown key" in message


def test_unknown_section_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r":1: fetchh: unknown key"):
        load_config(_write(tmp_path, '[fetchh]\nx = 1\n[[feeds]]\nurl = "https://a.example/rss"\n'))


def test_wrong_type_names_key_line_and_value(tmp_path: Path) -> None:
    text = '[fetch]\nallow_private_networks = "yes"\n[[feeds]]\nurl = "https://a.example/rss"\n'
    with pytest.raises(ConfigError, match=r":2: fetch\.allow_private_networks: .*bool.*'yes'"):
        load_config(_write(tmp_path, text))


def test_impossible_values_are_refused(tmp_path: Path) -> None:
    for body, key in (
        ("[fetch]\nmax_per_host = 0", "fetch.max_per_host"),
        ('[fetch]\ntimeout = "-5s"', "fetch.timeout"),
        ('[storage]\nfilename = "{id}.txt"', "storage.filename"),
        ('[storage]\nfilename = "../{seq}.txt"', "storage.filename"),
        ('[fetch]\nallowed_networks = ["10.0.0.0/33"]', "fetch.allowed_networks"),
    ):
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            load_config(_write(tmp_path, body + '\n[[feeds]]\nurl = "https://a.example/rss"\n'))


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"invalid TOML: .*line 3"):
        load_config(_write(tmp_path, '[[feeds]]\nurl = "https://a.example/rss"\nname = "unterminated\n'))


def test_feed_url_must_be_http(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r":2: feeds\[0\]\.url: .*http"):
        load_config(_write(tmp_path, '[[feeds]]\nurl = "file:///etc/passwd"\n'))


def test_feeds_are_required_and_unique(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"feeds: required key is missing"):
        load_config(_write(tmp_path, "[fetch]\nmax_per_host = 2\n"))
    twice = '[[feeds]]\nurl = "https://a.example/rss"\n[[feeds]]\nurl = "https://a.example/rss"\n'
    with pytest.raises(ConfigError, match=r":4: feeds\[1\]\.url: .* already listed as feeds\[0\]"):
        load_config(_write(tmp_path, twice))


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("text", "seconds"), [(20, 20.0), (1.5, 1.5), ("90s", 90.0), ("15m", 900.0), ("24h", 86400.0)]
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "5 parsecs", True, "0s"])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_allowed_networks_are_read_as_networks(tmp_path: Path) -> None:
    text = (
        '[fetch]\nallowed_networks = ["10.20.0.0/16", "fd00::/8"]\n[[feeds]]\nurl = "https://a.example/rss"\n'
    )
    networks = load_config(_write(tmp_path, text)).fetch.allowed_networks
    assert [str(network) for network in networks] == ["10.20.0.0/16", "fd00::/8"]
