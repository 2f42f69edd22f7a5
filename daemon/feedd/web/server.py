"""uvicorn serving the web view on an event loop it does not own: inside `feedd run` (beside the
polls, on the daemon's loop) or `feedd web` (alone). The socket is bound first, so that an
address in use is a ConfigError at start rather than uvicorn's sys.exit; uvicorn installs no
signal handlers (the daemon's SIGTERM and SIGHUP stay the daemon's) and no logging config."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Iterator

import uvicorn

from feedd.config import Config, ListenAddress
from feedd.errors import ConfigError
from feedd.web.app import create_app

log = logging.getLogger("feedd")


class _QuietStop(logging.Filter):
    """uvicorn's word on the requests a stop cut off (still running after its grace period): one
    INFO line with their count, rather than an ERROR and a CancelledError traceback for each.
    Other errors pass as they are."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == "Cancel %s running task(s), timeout graceful shutdown exceeded":
            record.msg = "web view stopped: %s request(s) still running were cut off"
            record.levelno, record.levelname = logging.INFO, "INFO"
            return True
        cancelled = record.exc_info is not None and isinstance(record.exc_info[1], asyncio.CancelledError)
        return not (cancelled and str(record.msg).startswith("Exception in ASGI application"))


def _quiet_stops() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(known, _QuietStop) for known in logger.filters):
        logger.addFilter(_QuietStop())


class _Server(uvicorn.Server):
    """uvicorn.Server without its signal handling: whoever runs the loop owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebServer:
    """The web view of `config`'s state on `address`, as a task on the running loop."""

    def __init__(
        self, config: Config, address: ListenAddress, *, current: Callable[[], Config] | None = None
    ) -> None:
        """`current`: the config as it is now (the daemon's, after a reload), else `config`."""
        self.address = address
        self._config = config
        self._current = current
        self._socket: socket.socket | None = None
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The port bound (the one asked for, or the one the system gave for port 0)."""
        assert self._socket is not None, "start() first"
        return int(self._socket.getsockname()[1])

    async def start(self) -> None:
        """Bind the address and start serving; ConfigError when it cannot be bound."""
        family = socket.AF_INET6 if ":" in self.address.host else socket.AF_INET
        try:
            self._socket = socket.create_server((self.address.host, self.address.port), family=family)
        except OSError as exc:
            raise ConfigError(
                f"web.listen: cannot serve the web view on {self.address}: {exc.strerror or exc}"
            ) from None
        # asyncio turns Nagle's algorithm off only on sockets whose protocol number says TCP, and
        # create_server leaves it 0: a keep-alive client's next request then waited 40 ms for
        # the delayed ACK of uvicorn's first write. Accepted sockets inherit the listener's.
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        web = self._config.web
        settings = uvicorn.Config(
            create_app(self._config, current=self._current, listen_host=self.address.host),
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=True,
            forwarded_allow_ips=list(web.forwarded_allow_ips),
            root_path=web.root_path,
            # Connections left open by browsers must not hold up a stop for long.
            timeout_graceful_shutdown=2,
        )
        _quiet_stops()
        self._server = _Server(settings)
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        while not self._server.started and not self._task.done():
            await asyncio.sleep(0.01)
        if self._task.done():
            self._task.result()  # raises what stopped it

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await asyncio.gather(self._task, return_exceptions=True)
        if self._socket is not None:
            self._socket.close()


def serve_web(config: Config, address: ListenAddress) -> None:
    """`feedd web`: serve the view until SIGTERM or SIGINT."""

    async def serve() -> None:
        server = WebServer(config, address)
        await server.start()
        where = f"{address.host if ':' not in address.host else f'[{address.host}]'}:{server.port}"
        log.info("web view on http://%s%s/ (read-only)", where, config.web.root_path)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await server.stop()

    asyncio.run(serve())
