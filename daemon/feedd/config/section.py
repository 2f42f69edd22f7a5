"""What every config section shares (no unknown keys, strict types, frozen), and where a secret
is read from: never the config itself."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class BasicAuthConfig(Section):
    """Where basic-auth credentials ("user:password") are kept (a feed's, or the web view's):
    never in the config."""

    #: An environment variable holding "user:password".
    env: str | None = None
    #: A file whose first line is "user:password" (relative paths resolve against the config).
    file: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> BasicAuthConfig:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of env or file")
        return self


class SecretSource(Section):
    """Where a secret is kept: never in the config."""

    #: An environment variable holding it.
    env: str | None = None
    #: A file whose first line holds it (relative paths resolve against the config; under
    #: systemd, LoadCredential= files are looked up first, as for a feed's basic_auth).
    file: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SecretSource:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of env or file")
        return self
