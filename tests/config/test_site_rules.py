"""Per-site extraction rules: validation, precedence, their effect in a pass, and the shipped
rules, each checked on the real pages it was written for."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import LoopbackServer, rss, shared_data, write_config
from feedd import load_config, run_once
from feedd.config import load_site_rules, parse_site_rules
from feedd.errors import ConfigError
from feedd.extract import Article, ExtractionFailure, PageInput, try_extract
from feedd.feeds import Entry


def test_rules_are_validated_with_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    cases = {
        '[[site]]\ndomains = ["example.com"]\ntitle = "h1 >> span"\n': (3, "site[0].title", "invalid CSS"),
        '[[site]]\ndomains = ["example.com"]\nheadline = "h1"\n': (3, "site[0].headline", "unknown key"),
        '[[site]]\ndomains = ["https://example.com/"]\n': (2, "site[0].domains", "host name"),
        '[[site]]\ntitle = "h1"\n': (1, "site[0].domains", "required key is missing"),
        '[[site]]\ndomains = ["a.com"]\nremove = ["div.ok", "p:nth-child(x)"]\n': (
            3,
            "site[0].remove",
            "invalid",
        ),
    }
    for text, (line, key, problem) in cases.items():
        with pytest.raises(ConfigError) as caught:
            parse_site_rules(text, path)
        message = str(caught.value)
        assert message.startswith(f"{path}:{line}: {key}: "), message
        assert problem in message, message
    with pytest.raises(ConfigError, match=r"rules\.toml: invalid TOML"):
        parse_site_rules("[[site]\n", path)


def test_a_rule_covers_subdomains_and_the_most_specific_wins(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        '[[site]]\ndomains = ["example.com"]\ntitle = "h1"\n'
        '[[site]]\ndomains = ["live.example.com"]\ntitle = "h2"\n'
    )
    rules = load_site_rules(path)
    assert rules.for_url("https://www.example.com/a") is rules.for_url("https://example.com/b")
    assert rules.for_url("https://www.example.com/a").title == "descendant-or-self::h1"  # type: ignore[union-attr]
    assert rules.for_url("https://live.example.com/a").title == "descendant-or-self::h2"  # type: ignore[union-attr]
    assert rules.for_url("https://notexample.com/a") is None
    assert rules.for_url(None) is None


def test_user_rules_override_the_shipped_ones_domain_by_domain(tmp_path: Path) -> None:
    shipped = load_site_rules()
    shared = next(rule for rule in shipped if len(rule.domains) > 1)
    overridden, kept = shared.domains[:2]
    path = tmp_path / "rules.toml"
    path.write_text(f'[[site]]\ndomains = ["{overridden}"]\ntitle = "h2"\n')
    rules = load_site_rules(path)
    assert rules.for_url(f"https://www.{overridden}/x").title == "descendant-or-self::h2"  # type: ignore[union-attr]
    assert rules.for_url(f"https://www.{kept}/x") == shared


def test_check_config_reports_a_bad_rules_file(tmp_path: Path) -> None:
    (tmp_path / "rules.toml").write_text('[[site]]\ndomains = ["example.com"]\nbody = "div..x"\n')
    config = write_config(tmp_path, [{"url": "http://127.0.0.1:9/feed"}], extra='site_rules = "rules.toml"')
    result = subprocess.run(
        [sys.executable, "-m", "feedd", "check-config", "-c", str(config)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert f"{tmp_path / 'rules.toml'}:3: site[0].body: invalid CSS selector" in result.stderr
    (tmp_path / "rules.toml").unlink()
    with pytest.raises(ConfigError, match="cannot read site rules"):
        load_config(config)


STORY = [
    "The regional parliament approved the budget on Thursday after a debate that lasted eleven hours.",
    "Opposition parties had demanded more money for schools and hospitals in rural districts.",
    "The finance minister said the plan would cut the deficit by half within three years.",
    "The budget now goes to the upper house, which is expected to pass it next month.",
]
LEAD = "Eleven hours of debate end in a narrow vote for more school funding."
RSS_TYPE = {"Content-Type": "application/rss+xml"}
PROMO = "Subscribe to our morning briefing for the day's top stories in your inbox, free of charge."


def _ruled_page() -> str:
    first, second = ("".join(f"<p>{p}</p>" for p in half) for half in (STORY[:2], STORY[2:]))
    return (
        "<html><head><title>SEO title for search engines | Example</title></head><body><article>"
        '<h1><span class="kicker">Budget</span> '
        '<span class="headline">Parliament passes the budget</span></h1>'
        f'<div class="story-top"><p>{LEAD}</p></div>'
        f'<div class="story">{first}<div class="promo"><p>{PROMO}</p></div>{second}</div>'
        "</article></body></html>"
    )


def test_a_user_rule_sets_title_lead_and_body_in_a_pass(server: LoopbackServer, tmp_path: Path) -> None:
    page = server.add("/story", _ruled_page())
    feed = server.add("/feed", rss([{"title": "Budget", "link": page, "guid": "b1"}]), headers=RSS_TYPE)
    (tmp_path / "rules.toml").write_text(
        '[[site]]\ndomains = ["127.0.0.1"]\ntitle = "h1 .headline"\nlead = ".story-top p"\n'
        'body = "div.story"\nremove = [".promo"]\n'
    )
    config = write_config(tmp_path, [{"url": feed}], extra='site_rules = "rules.toml"')
    run_once(load_config(config))
    (document,) = (tmp_path / "out").glob("*.txt")
    text = document.read_text()
    assert text.startswith("Parliament passes the budget\n")
    assert f"\n{LEAD}\n" in text
    assert PROMO not in text
    assert text.rstrip("\n").endswith("\n\n".join(STORY))


def test_without_the_rule_the_page_keeps_its_declared_title(server: LoopbackServer, tmp_path: Path) -> None:
    page = server.add("/story", _ruled_page())
    feed = server.add("/feed", rss([{"title": "Budget", "link": page, "guid": "b1"}]), headers=RSS_TYPE)
    run_once(load_config(write_config(tmp_path, [{"url": feed}])))
    (document,) = (tmp_path / "out").glob("*.txt")
    assert document.read_text().startswith("SEO title for search engines")


# The shipped rules, on the real pages they were written for: Fundus's test pages, whose expected
# values come from Fundus's hand-written per-publisher parsers.

FUNDUS = ("extraction", "fundus")


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _extract(html: bytes, url: str, with_rule: bool) -> Article | None:
    """The page's article; None for a page that is not one (a live blog: a title rule for its site
    does not make it one, and the entry here has no text to fall back on)."""
    entry = Entry("k", None, url, None, "", None, "", "", None)
    rule = load_site_rules().for_url(url) if with_rule else None
    article = try_extract(PageInput(entry, html, "text/html; charset=utf-8", url, site_rule=rule))
    if isinstance(article, ExtractionFailure) and article.reason.startswith("page is a live blog"):
        return None
    assert isinstance(article, Article), article
    return article


def test_every_shipped_rule_fixes_real_pages_and_breaks_none() -> None:
    root = shared_data(*FUNDUS)
    data = root / "tests" / "resources" / "parser" / "test_data"
    pairs = json.loads((root / "INDEX_pairs.json").read_text())
    rules = load_site_rules()
    for rule in rules:
        pages = [p for p in pairs if rules.for_url(p["url"]) is rule]
        assert pages, f"no real page tests the rule for {rule.domains}"
        fixed = 0
        for pair in pages:
            expected = json.loads((data / pair["country"] / f"{pair['publisher']}.json").read_text())
            expected = expected[pair["version"]]
            html = gzip.decompress((data / pair["html"]).read_bytes())
            ruled, generic = _extract(html, pair["url"], True), _extract(html, pair["url"], False)
            if ruled is None or generic is None:
                assert ruled is generic, pair["html"]  # a rule never turns a live blog into an article
                continue
            if rule.title:
                assert _norm(ruled.title) == _norm(expected["title"]), (pair["html"], ruled.title)
                fixed += _norm(generic.title) != _norm(expected["title"])
            if rule.lead:
                summary = _norm(" ".join(expected["body"]["summary"]))
                assert _norm(ruled.lead or "") == summary, (pair["html"], ruled.lead)
                fixed += _norm(generic.lead or "") != summary
        # A rule earns its place: generic extraction gets at least one of its pages wrong.
        assert fixed, f"generic extraction already gets every page of {rule.domains} right"
        domains = {urlsplit(p["url"]).hostname for p in pages}
        assert domains, rule.domains
