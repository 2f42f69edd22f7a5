"""Per-site extraction rules: CSS selectors that override generic extraction for one publisher.

Generic extraction decides from the page's markup alone and is right for most sites; where a
publisher's markup misleads it (a kicker glued to the headline, a teaser styled like the body), a
rule names the elements instead, as Miniflux's scraper rules do. feedd ships rules
(`site_rules.toml` beside this module, each with a test on a real page); `[extract] site_rules`
in the config names a file of the user's own, whose rules take precedence.

Selectors are checked and translated to XPath when the config loads, so `feedd check-config`
reports a bad one by file and line, and workers only evaluate XPath.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from cssselect import HTMLTranslator, SelectorError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from feedd.config.site_rule import SiteRule
from feedd.config.toml_lines import validate_toml
from feedd.errors import ConfigError

SHIPPED_RULES = "site_rules.toml"


class SiteRules:
    """Rules by domain; a rule for "example.com" also covers "www.example.com" and "m.example.com"."""

    def __init__(self, rules: Iterable[SiteRule] = ()) -> None:
        self._by_domain: dict[str, SiteRule] = {}
        for rule in rules:
            for domain in rule.domains:
                self._by_domain[domain] = rule

    def __len__(self) -> int:
        return len(set(map(id, self._by_domain.values())))

    def __iter__(self):  # type: ignore[no-untyped-def]
        seen: set[int] = set()
        for rule in self._by_domain.values():
            if id(rule) not in seen:
                seen.add(id(rule))
                yield rule

    def for_url(self, url: str | None) -> SiteRule | None:
        """The rule for the most specific domain that `url`'s host belongs to."""
        host = (urlsplit(url or "").hostname or "").rstrip(".")
        labels = host.split(".")
        for start in range(len(labels) - 1):
            if rule := self._by_domain.get(".".join(labels[start:])):
                return rule
        return None


def load_site_rules(user_file: Path | None = None) -> SiteRules:
    """The shipped rules, overridden domain by domain by those in `user_file`."""
    shipped = resources.files("feedd.config").joinpath(SHIPPED_RULES)
    rules = parse_site_rules(shipped.read_text(encoding="utf-8"), Path(str(shipped)))
    if user_file is not None:
        try:
            text = user_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{user_file}: cannot read site rules: {exc}") from None
        rules += parse_site_rules(text, user_file)
    return SiteRules(rules)


def parse_site_rules(text: str, path: Path) -> list[SiteRule]:
    """Validate a rules file; errors name the file, the line and the rule's key."""
    document = validate_toml(text, path, _RulesFile)
    return [
        SiteRule(
            domains=tuple(rule.domains),
            title=_xpath(rule.title),
            lead=_xpath(rule.lead),
            body=_xpath(rule.body),
            remove=tuple(_translate(css) for css in rule.remove),
        )
        for rule in document.site
    ]


def _xpath(css: str | None) -> str | None:
    return _translate(css) if css else None


def _translate(css: str) -> str:
    return HTMLTranslator().css_to_xpath(css)


class _RuleEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    domains: list[str] = Field(min_length=1)
    title: str | None = None
    lead: str | None = None
    body: str | None = None
    remove: list[str] = []
    #: Why the rule exists; for the people who maintain it.
    note: str = ""

    @field_validator("domains")
    @classmethod
    def _check_domains(cls, domains: list[str]) -> list[str]:
        for domain in domains:
            if not domain or "/" in domain or ":" in domain or domain != domain.strip().lower():
                raise ValueError(f"{domain!r} is not a lower-case host name such as 'example.com'")
        return domains

    @field_validator("title", "lead", "body")
    @classmethod
    def _check_selector(cls, css: str | None) -> str | None:
        if css is not None:
            _check_css(css)
        return css

    @field_validator("remove")
    @classmethod
    def _check_selectors(cls, selectors: list[str]) -> list[str]:
        for css in selectors:
            _check_css(css)
        return selectors


class _RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    site: list[_RuleEntry] = []


def _check_css(css: str) -> None:
    try:
        _translate(css)
    except SelectorError as exc:
        raise ValueError(f"invalid CSS selector {css!r}: {exc}") from None
