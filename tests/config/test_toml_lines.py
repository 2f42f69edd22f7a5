"""TOML validation errors that name the file, the line and the dotted key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, field_validator

from feedd.config import load_config
from feedd.config.toml_lines import line_of, validate_toml
from feedd.errors import ConfigError

PATH = Path("feeds.toml")

LAYOUT = """\
# a comment line
name = "wire"

[storage]
output_dir = "out"   # trailing comment
"quoted key" = 1

[fetch]  # a header with a comment
timeout = 5
headers = { "X-Token" = "abc" }
domains = [
  "a.example",
  "b.example",
]

[[feeds]]
url = "https://a.example/feed"

[[feeds]]
url = "https://b.example/feed"
[feeds.auth]
env = "B_AUTH"

[[feeds]]
url = "https://c.example/feed"
auth = { env = "C_AUTH" }

[deep.er.table]
key = 1
"""


@pytest.mark.parametrize(
    ("loc", "line"),
    [
        (("name",), 2),
        (("storage", "output_dir"), 5),
        (("storage", "quoted key"), 6),
        (("fetch", "timeout"), 9),
        # Inside an inline table or a multi-line array: the line the key opens on.
        (("fetch", "headers", "X-Token"), 10),
        (("fetch", "domains", 1), 11),
        # Arrays of tables count their entries; a sub-table belongs to the latest entry.
        (("feeds", 0, "url"), 17),
        (("feeds", 1, "url"), 20),
        (("feeds", 1, "auth", "env"), 22),
        (("feeds", 2, "url"), 25),
        (("feeds", 2, "auth", "env"), 26),
        (("deep", "er", "table", "key"), 29),
    ],
)
def test_line_of_a_written_key(loc: tuple[str | int, ...], line: int) -> None:
    assert line_of(LAYOUT, loc) == line


@pytest.mark.parametrize(
    ("loc", "line"),
    [
        # A key that is not written (a missing one) points at its table's header.
        (("feeds", 0, "name"), 16),
        (("feeds", 2, "name"), 24),
        (("feeds", 1, "auth", "file"), 21),
        (("deep", "er", "table", "other"), 28),
        (("storage", "database"), 4),
        (("fetch",), 8),
    ],
)
def test_line_of_an_unwritten_key_is_its_tables_header(loc: tuple[str | int, ...], line: int) -> None:
    assert line_of(LAYOUT, loc) == line


@pytest.mark.parametrize("loc", [("nothing",), ("feeds", 3, "url"), ("schedule", "interval")])
def test_line_of_a_key_in_no_written_table_is_none(loc: tuple[str | int, ...]) -> None:
    assert line_of(LAYOUT, loc) is None


def test_line_of_does_not_take_a_key_of_another_table_or_entry() -> None:
    text = '[a]\nurl = 1\n[b]\nurl = 2\n[[c]]\nurl = 3\n[[c]]\nname = "x"\n'
    assert line_of(text, ("b", "url")) == 4
    assert line_of(text, ("c", 1, "url")) == 7  # the second entry's header, not the first's url


class _Auth(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    env: str


class _Feed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    url: str
    interval: int = 60
    tags: list[str] = []
    auth: _Auth | None = None

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        if not url.startswith("http"):
            raise ValueError("expected an http URL")
        return url


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = ""
    feeds: list[_Feed]


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as refused:
        validate_toml(text, PATH, _Document)
    return str(refused.value).splitlines()


def test_a_valid_document_is_returned_as_the_model() -> None:
    document = validate_toml('[[feeds]]\nurl = "https://a.example/"\ninterval = 30\n', PATH, _Document)
    assert document == _Document(feeds=[_Feed(url="https://a.example/", interval=30)])


def test_invalid_toml_names_the_file_and_tomllibs_position() -> None:
    problems = _problems('[[feeds]]\nurl = "https://a.example/\n')
    assert len(problems) == 1
    assert problems[0].startswith("feeds.toml: invalid TOML: ")
    assert problems[0].endswith("(at line 2, column 26)")


def test_an_unknown_key_is_named_at_its_line() -> None:
    text = '[[feeds]]\nurl = "https://a.example/"\n\n[[feeds]]\nurl = "https://b.example/"\ncolour = "red"\n'
    assert _problems(text) == ["feeds.toml:6: feeds[1].colour: unknown key"]


def test_a_missing_key_points_at_its_tables_header() -> None:
    text = 'name = "wire"\n[[feeds]]\nurl = "https://a.example/"\n[[feeds]]\ninterval = 5\n'
    assert _problems(text) == ["feeds.toml:4: feeds[1].url: required key is missing"]


def test_a_missing_top_level_key_has_no_line() -> None:
    assert _problems('name = "wire"\n') == ["feeds.toml: feeds: required key is missing"]


def test_a_wrong_value_says_what_was_expected_and_what_was_given() -> None:
    text = '[[feeds]]\nurl = "ftp://a.example/"\ninterval = "5"\n'
    assert _problems(text) == [
        # The validator's own message, without pydantic's "Value error, " prefix.
        "feeds.toml:2: feeds[0].url: expected an http URL (got 'ftp://a.example/')",
        "feeds.toml:3: feeds[0].interval: Input should be a valid integer (got '5')",
    ]


def test_a_wrong_nested_value_is_named_by_its_dotted_path() -> None:
    text = '[[feeds]]\nurl = "https://a.example/"\ntags = ["ok", 7]\n[feeds.auth]\nenv = 1\nfile = "x"\n'
    assert _problems(text) == [
        "feeds.toml:3: feeds[0].tags[1]: Input should be a valid string (got 7)",
        "feeds.toml:5: feeds[0].auth.env: Input should be a valid string (got 1)",
        "feeds.toml:6: feeds[0].auth.file: unknown key",
    ]


def test_a_table_or_list_given_where_a_value_belongs_is_not_quoted_back() -> None:
    text = '[[feeds]]\nurl = "https://a.example/"\ninterval = [1, 2]\nauth = "B_AUTH"\n'
    assert _problems(text) == [
        "feeds.toml:3: feeds[0].interval: Input should be a valid integer",
        "feeds.toml:4: feeds[0].auth: Input should be a valid dictionary or instance of _Auth (got 'B_AUTH')",
    ]


def test_unknown_keys_get_a_line_and_a_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "feedd.toml"
    path.write_text(
        '[fetch]\nhost_gapp = "1s"\n[dedupe]\nwindow = "1d"\n\n'
        '[[feed]]\nurl = "https://example.org/a.xml"\n\n'
        '[[feeds]]\nurl = "https://example.org/b.xml"\nnmae = "B"\n'
    )
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).splitlines() == [
        f"{path}:2: fetch.host_gapp: unknown key; did you mean 'host_gap'?",
        f"{path}:11: feeds[0].nmae: unknown key; did you mean 'name'?",
        f"{path}:3: dedupe: unknown key; did you mean 'dedup'?",
        f"{path}:6: feed: unknown key; did you mean 'feeds'?",
    ]
