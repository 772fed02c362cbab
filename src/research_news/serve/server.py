"""Running the preview server: bind the socket, start uvicorn, watch files, stop cleanly on Ctrl-C.

The socket is bound before uvicorn starts, so the port is known (``--port 0`` picks a free
one) and the Host check can name it; a port in use is one line, not a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from ..exceptions import ResearchNewsError
from .app import Previewer, allowed_hosts, create_app, is_wildcard
from .previews import targets_for


class PreviewServer:
    """The preview of ``path`` on ``host:port``; :meth:`run` blocks until Ctrl-C."""

    def __init__(self, path: Path, host: str = "127.0.0.1", port: int = 8000):
        self.previewer = Previewer(targets_for(path))
        self.on_started: Callable[[], None] = lambda: None  # run() sets it
        self.socket = bind(host, port)
        self.host, self.port = host, self.socket.getsockname()[1]
        shown = "127.0.0.1" if is_wildcard(host) else f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.port}/"
        config = uvicorn.Config(
            self._with_lifespan(create_app(self.previewer, allowed_hosts(host, self.port))),
            log_level="warning",
            access_log=False,
            lifespan="on",
            loop="asyncio",
            http="h11",
            ws="none",
            timeout_graceful_shutdown=2,
        )
        self.server = _Server(config, self.previewer)

    def _with_lifespan(self, app: ASGIApp) -> ASGIApp:
        previewer = self.previewer

        async def lifespan_app(scope, receive, send):
            if scope["type"] != "lifespan":
                return await app(scope, receive, send)
            watcher: asyncio.Task | None = None
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await previewer.start()
                    watcher = asyncio.create_task(previewer.watch())
                    await send({"type": "lifespan.startup.complete"})
                    self.on_started()
                elif message["type"] == "lifespan.shutdown":
                    previewer.stop()
                    if watcher is not None:
                        with contextlib.suppress(asyncio.CancelledError, Exception):
                            await asyncio.wait_for(watcher, timeout=2)
                    await send({"type": "lifespan.shutdown.complete"})
                    return

        return lifespan_app

    def run(self, on_started: Callable[[], None] = lambda: None) -> None:
        """Serve until Ctrl-C (uvicorn then raises it again once everything has stopped: caught here).

        ``on_started`` runs once the previews are ready and Ctrl-C is uvicorn's to handle: a
        message saying "press Ctrl-C" must not come before Ctrl-C would stop the server cleanly.
        """
        self.on_started = on_started
        try:
            self.server.run(sockets=[self.socket])
        except KeyboardInterrupt:
            pass
        finally:
            self.previewer.stop()
            self.socket.close()

    @contextlib.contextmanager
    def in_thread(self) -> Iterator[str]:
        """Serve in a background thread (tests, benchmarks); yields the URL once it answers."""
        thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)
        thread.start()
        try:
            while not self.server.started:
                if not thread.is_alive():
                    raise RuntimeError("the preview server did not start")
                thread.join(0.02)
            yield self.url
        finally:
            self.server.stop_all()
            thread.join(10)
            self.socket.close()


class _Server(uvicorn.Server):
    """uvicorn, which also ends the pages' event streams when asked to stop: it waits for open
    connections to finish, and an event stream never would by itself."""

    def __init__(self, config: uvicorn.Config, previewer: Previewer):
        super().__init__(config)
        self.previewer = previewer

    def handle_exit(self, sig, frame) -> None:
        super().handle_exit(sig, frame)
        self._end_streams()

    def stop_all(self) -> None:
        self.should_exit = True
        self._end_streams()

    def _end_streams(self) -> None:
        loop = self.previewer._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.previewer.stopping.set)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; a port in use or an unknown host is one plain error."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
        sock.setblocking(False)
        return sock
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise ResearchNewsError(
                f"port {port} is already in use on {host}: choose another with --port (--port 0 picks a free one)"
            ) from None
        raise ResearchNewsError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
