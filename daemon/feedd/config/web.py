"""[web]: the read-only web view of the corpus: where it listens, who may read it, and how a
reverse proxy in front of it is trusted."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from feedd.config.listen import ListenAddress, ListenText, is_loopback, parse_listen
from feedd.config.section import BasicAuthConfig, SecretSource, Section

#: Where `feedd web` listens when [web] listen is unset.
DEFAULT_WEB_LISTEN = "127.0.0.1:8080"


class WebConfig(Section):
    """The read-only web view of the corpus (`feedd run` with `listen` set, or `feedd web`)."""

    #: "host:port" to serve it on; unset: no web server in `feedd run` (`feedd web` then serves
    #: on 127.0.0.1:8080). ":8080" listens on loopback only.
    listen: ListenText | None = None
    #: A bearer token ("Authorization: Bearer ...") every request must carry ...
    token: SecretSource | None = None
    #: ... or HTTP basic auth, "user:password" from an environment variable or a file.
    basic_auth: BasicAuthConfig | None = None
    #: The path prefix a reverse proxy serves it under ("/feedd"); empty at the root.
    root_path: str = Field(default="", pattern=r"^(/[A-Za-z0-9._~\-]+)*$")
    #: Addresses whose X-Forwarded-For / X-Forwarded-Proto headers are believed (the reverse
    #: proxy's); "*" trusts any, which is only safe when nothing else can reach the port.
    forwarded_allow_ips: list[str] = ["127.0.0.1", "::1"]
    #: Without token or basic_auth, the view answers only requests whose Host header names this
    #: machine ("127.0.0.1", "localhost", "[::1]", or the listen host), so that no other site
    #: can reach it through a name it points at 127.0.0.1 (DNS rebinding). A reverse proxy that
    #: passes the browser's Host on (nginx's `proxy_set_header Host $host`) lists its names here
    #: ("news.example"; an IPv6 address in brackets; never a port). With a secret, any Host is
    #: answered: the secret is the guard.
    allowed_hosts: list[str] = []

    @field_validator("allowed_hosts")
    @classmethod
    def _check_hosts(cls, hosts: list[str]) -> list[str]:
        for host in hosts:
            try:
                address = parse_listen(f"{host}:1")
            except ValueError:
                address = None
            if not host.strip() or address is None or ":" in host.strip("[]") and not host.startswith("["):
                raise ValueError(
                    f"{host!r}: expected a host name or an IP address without a port, e.g. "
                    '"news.example", "192.0.2.7" or "[2001:db8::7]"'
                )
        return [host.lower() for host in hosts]

    @model_validator(mode="after")
    def _guarded_beyond_loopback(self) -> WebConfig:
        if self.token is not None and self.basic_auth is not None:
            raise ValueError("give token or basic_auth, not both")
        if self.listen is not None and self.token is None and self.basic_auth is None:
            if not is_loopback(parse_listen(self.listen).host):
                raise ValueError(
                    f"listen = {self.listen!r} is reachable beyond this machine: set token or "
                    "basic_auth, or listen on a loopback address (127.0.0.1, [::1], localhost) "
                    "behind a reverse proxy that authenticates"
                )
        return self

    @property
    def address(self) -> ListenAddress | None:
        """`listen` as the server binds it; None when unset."""
        return parse_listen(self.listen) if self.listen is not None else None
