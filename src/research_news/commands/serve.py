"""`research-news serve`: preview the editions in a browser, rebuilt on every save.

Only this command imports the server (Starlette, uvicorn, watchfiles): the others start
as fast without it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer


def serve(
    path: Annotated[Path, typer.Argument(help="The content tree, an issue folder, or a single brief.")] = Path("."),
    port: Annotated[
        int, typer.Option("--port", "-p", min=0, max=65535, help="The port to listen on (0: any free port).")
    ] = 8000,
    host: Annotated[
        str,
        typer.Option(
            "--host", help="The address to listen on. Anything but loopback lets other computers read the previews."
        ),
    ] = "127.0.0.1",
    open_browser: Annotated[bool, typer.Option("--open", help="Open the preview in a web browser.")] = False,
) -> None:
    """Preview the web edition, the email, the plain text and the PDF; they update when you save."""
    from ..serve.app import is_loopback
    from ..serve.server import PreviewServer

    server = PreviewServer(path, host, port)
    if not is_loopback(host):
        typer.echo(
            f"warning: listening on {host}: other computers that reach this one can read the previews "
            "(drafts included); use the default --host 127.0.0.1 to keep them to yourself",
            err=True,
        )
    logger = logging.getLogger("research_news")
    if logger.level == logging.WARNING:  # not --quiet: say what changed and how long the PDFs took
        logger.setLevel(logging.INFO)

    def started() -> None:
        typer.echo(f"Previewing {path} at {server.url} (Ctrl-C to stop)", err=True)
        if open_browser:
            import webbrowser

            webbrowser.open(server.url)

    server.run(on_started=started)
    typer.echo("Stopped.", err=True)
