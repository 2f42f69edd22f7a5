"""`feedd web`: the web view over the state, without a daemon (read-only: no lock, no write)."""

from __future__ import annotations

import logging
from typing import Annotated, Optional

import typer

from feedd.cli.options import ConfigOption, load
from feedd.errors import ConfigError


def web_command(
    config: ConfigOption = None,
    listen: Annotated[
        Optional[str],  # noqa: UP045 - typer reads the annotation at run time
        typer.Option(
            "--listen",
            "-l",
            help='"host:port" to serve on, instead of [web] listen (default 127.0.0.1:8080).',
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the read-only web view of the corpus (feeds, documents, duplicates side by side, an
    overview; JSON under /api/) until SIGTERM, whether or not `feedd run` is running."""
    from pydantic import ValidationError

    from feedd.config import DEFAULT_WEB_LISTEN, WebConfig

    loaded = load(config)
    chosen = listen or loaded.web.listen or DEFAULT_WEB_LISTEN
    try:
        # Checked as [web] listen is: beyond loopback only with a token or basic auth.
        web = WebConfig.model_validate({**loaded.web.model_dump(), "listen": chosen})
    except ValidationError as exc:
        problems = "; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors())
        raise ConfigError(f"--listen {chosen}: {problems}") from None
    feedd_logger = logging.getLogger("feedd")
    if feedd_logger.level > logging.INFO:
        feedd_logger.setLevel(logging.INFO)
    from feedd.web import serve_web

    assert web.address is not None
    serve_web(loaded, web.address)
