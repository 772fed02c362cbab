"""The preview server: a Starlette app over the :class:`Previewer`, which rebuilds on save.

Addresses::

    /                           → the preview page of the first target (the newest issue)
    /p/<key>/                   the preview page: tabs, problems, live reload (?lang=fr: in French)
    /p/<key>/web/<file>         the web edition and its assets; /p/<key>/web/fr/<file> in French…
    /p/<key>/email.html         the email; /p/<key>/email.txt its plain text; /p/<key>/fr/email.html…
    /p/<key>/pdf/issue.pdf      the issue's PDF; /p/<key>/pdf/<slug>.pdf a brief's offprint
    /p/<key>/problems           the problems panel alone (HTML), as the events carry it
    /events                     server-sent events: one ``update`` per rebuild and per PDF
    /_/<asset>                  the page's own CSS and JS

Only these answer: the preview files are looked up by exact name in the rendered
:class:`~research_news.serve.previews.Site`, never joined to a folder, and every request
whose ``Host`` is not the address the server is bound to is refused (DNS rebinding: a web
page of another site must not read the previews through a name that resolves to 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from ..exceptions import display_path
from ..layout import BUILTIN_LAYOUTS, forget_labels
from ..validate import find_root
from .pdfs import ISSUE, PdfJob, PdfResult, PdfWorker
from .previews import ContentCache, Language, Site, Target, render_site

log = logging.getLogger(__name__)

ASSETS = Path(__file__).parent / "assets"
PAGE_ASSETS = {"preview.css": "text/css; charset=utf-8", "preview.js": "text/javascript; charset=utf-8"}
"""The page's own files, served by these exact names and nothing else."""

PDF_WAIT = 120.0
"""How long a request for a PDF waits for the worker before it is told to try again (seconds)."""

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "cross-origin-resource-policy": "same-origin",
}
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
PREVIEW_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'self'"
)
"""Briefs are untrusted: the previews run no script, and an SVG figure opened alone runs none either."""


# --- the state: targets, their latest previews and PDFs ---------------------------------


@dataclass
class PdfState:
    """A target's PDFs: the latest result of each (issue, or a brief's slug) and who waits."""

    results: dict[str, PdfResult] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class Previewer:
    """Keeps each target's latest :class:`Site`, rebuilds on change, and tells the open pages."""

    def __init__(self, targets: list[Target]):
        self.targets = {target.key: target for target in targets}
        self.cache = ContentCache()
        self.sites: dict[str, Site] = {}
        self.pdfs: dict[str, PdfState] = {}
        self.generation = 0
        self.listeners: set[asyncio.Queue] = set()
        self.stopping = asyncio.Event()
        self.rebuilt_at: dict[str, float] = {}
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.worker = PdfWorker(self._pdf_done)
        self.templates = Environment(
            loader=FileSystemLoader(ASSETS),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    @property
    def first(self) -> Target:
        """The target ``/`` shows: the last issue by folder name (folders start with their date)."""
        return list(self.targets.values())[-1]

    def watched_folders(self) -> list[Path]:
        """The content tree of every target, the layouts/ beside it, and the built-in layouts."""
        folders: list[Path] = []
        for target in self.targets.values():
            root = find_root(target.path) or (target.path if target.path.is_dir() else target.path.parent)
            folders += [root, root.parent / "layouts"]
        folders.append(BUILTIN_LAYOUTS)
        unique = [f.resolve() for f in dict.fromkeys(folders) if f.is_dir()]
        return [f for f in dict.fromkeys(unique) if not any(f != o and f.is_relative_to(o) for o in unique)]

    # lifecycle

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.worker.start()
        await self.site(self.first.key)

    def stop(self) -> None:
        self.stopping.set()
        self.worker.close()

    # rebuilding

    async def site(self, key: str) -> Site:
        """The target's previews, rendered now if this is the first time it is asked for."""
        if key not in self.sites:
            await self.rebuild([key], changed=None)
        return self.sites[key]

    async def rebuild(self, keys: list[str], changed: set[Path] | None) -> None:
        """Render ``keys`` again (one at a time: a burst of saves is one rebuild after another's end)."""
        async with self._lock:
            if changed and any(path.parent.name == "labels" for path in changed):
                forget_labels()
            for key in keys:
                self.generation += 1
                previous = self.sites.get(key)
                site = await asyncio.to_thread(render_site, self.targets[key], self.cache, self.generation)
                self.sites[key] = site
                self.rebuilt_at[key] = time.time()
                self._queue_pdfs(site, previous, changed)
                self.announce(key)

    async def on_change(self, changed: set[Path]) -> None:
        """Files changed: rebuild every target that has been looked at."""
        log.info("changed: %s", ", ".join(sorted(display_path(path) for path in changed)))
        await self.rebuild(list(self.sites) or [self.first.key], changed)

    async def watch(self) -> None:
        """Rebuild after each burst of saves, until the server stops."""
        from watchfiles import DefaultFilter, awatch

        folders = self.watched_folders()
        log.debug("watching %s", ", ".join(map(str, folders)))
        # step: a burst of saves (an editor writes a file, then renames it) ends after 50 ms of quiet.
        async for changes in awatch(
            *folders, watch_filter=DefaultFilter(), step=50, debounce=1600, stop_event=self.stopping, rust_timeout=500
        ):
            await self.on_change({Path(path) for _, path in changes})

    # PDFs

    def _queue_pdfs(self, site: Site, previous: Site | None, changed: set[Path] | None) -> None:
        """The changed briefs' offprints first, then the issue, then offprints shown before."""
        if not site.ok:
            return
        state = self.pdfs.setdefault(site.target.key, PdfState())
        slugs = [slug for slug, _, _ in site.briefs]
        if site.target.kind == "brief":
            wanted = slugs[:1]
        else:
            touched = {
                slug
                for slug, _, path in site.briefs
                if changed and path is not None and path.resolve() in {p.resolve() for p in changed}
            }
            shown_before = [what for what in state.results if what != ISSUE and what in slugs and what not in touched]
            wanted = [slug for slug in slugs if slug in touched] + [ISSUE] + shown_before
        self.worker.submit([PdfJob(site.target, what, site.generation) for what in wanted])

    def want_pdf(self, site: Site, what: str) -> None:
        """A PDF asked for by the page that is neither ready nor on its way (another brief's offprint)."""
        if what not in self.worker.busy_with(site.target.key):
            self.worker.submit([PdfJob(site.target, what, site.generation)])

    def _pdf_done(self, result: PdfResult) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._pdf_arrived, result)

    def _pdf_arrived(self, result: PdfResult) -> None:
        key = result.job.target.key
        state = self.pdfs.setdefault(key, PdfState())
        state.results[result.job.what] = result
        state.changed.set()
        state.changed = asyncio.Event()
        log.info("%s: %s PDF in %.2f s", key, result.job.what, result.seconds)
        self.announce(key)

    def pdf_status(self, key: str) -> dict[str, dict[str, Any]]:
        """Each PDF of the target: ready (for the current previews), rendering, failed, or not yet asked for."""
        site = self.sites.get(key)
        state = self.pdfs.get(key, PdfState())
        busy = self.worker.busy_with(key)
        status = {}
        for what in ([ISSUE] if site and site.target.kind == "issue" else []) + [
            s for s, _, _ in (site.briefs if site else [])
        ]:
            result = state.results.get(what)
            current = bool(site and result and result.job.generation == site.generation)
            status[what] = {
                "state": "rendering"
                if what in busy
                else "failed"
                if result and result.failure
                else "ready"
                if current
                else "stale"
                if result
                else "none",
                "generation": result.job.generation if result else 0,
                "pages": result.pages if result else 0,
                "seconds": round(result.seconds, 2) if result else 0,
                "failure": result.failure if result else None,
            }
        return status

    # telling the pages

    def announce(self, key: str) -> None:
        message = self.event(key)
        for queue in list(self.listeners):
            queue.put_nowait(message)

    def event(self, key: str) -> str:
        site = self.sites[key]
        return json.dumps(
            {
                "key": key,
                "generation": site.generation,
                "ok": site.ok,
                "errors": len(site.errors),
                "warnings": len(site.warnings),
                "problems": self.problems_html(site),
                "pdf": self.pdf_status(key),
            }
        )

    def problems_html(self, site: Site) -> str:
        return self.templates.get_template("problems.html.j2").render(site=site, problems=problem_lines(site))

    def page_html(self, site: Site, lang: str | None = None) -> str:
        """The preview page, its web and email previews in ``lang`` (the issue's own language by default)."""
        return self.templates.get_template("page.html.j2").render(
            site=site,
            targets=list(self.targets.values()),
            problems=self.problems_html(site),
            pdf=self.pdf_status(site.target.key),
            issue=ISSUE,
            language=shown_language(site, lang),
        )


def shown_language(site: Site, lang: str | None) -> Language:
    """The language of ``site`` the page shows: ``lang`` if it is one of them, else the issue's own
    (also while the content has errors and no language is known: nothing is shown then)."""
    return next((language for language in site.languages if language.code == lang), None) or (
        site.languages[0] if site.languages else Language("", "", "")
    )


def problem_lines(site: Site) -> list[dict[str, str | None]]:
    """Each problem in the pieces ``check`` prints it in: together they read exactly as its line."""
    lines = []
    for problem in site.problems:
        lines.append(
            {
                "severity": problem.severity,
                "where": f"{display_path(problem.path)}:{problem.line}:{problem.column}",
                "label": "warning: " if problem.severity == "warning" else "",
                "message": problem.message,
                "hint": f"({problem.hint})" if problem.hint else None,
            }
        )
    return lines


# --- the HTTP side -----------------------------------------------------------------------


def create_app(previewer: Previewer, allowed_hosts: set[str]) -> Any:
    """The ASGI app: the routes above, behind the Host check, with security headers on every answer."""

    async def page(request: Request) -> Response:
        key = request.path_params["key"]
        if key not in previewer.targets:
            return _not_found()
        site = await previewer.site(key)
        page = previewer.page_html(site, request.query_params.get("lang"))
        return _headers(Response(page, media_type="text/html; charset=utf-8"), PAGE_POLICY)

    async def home(request: Request) -> Response:
        return RedirectResponse(f"/p/{previewer.first.key}/", status_code=307)

    async def problems(request: Request) -> Response:
        key = request.path_params["key"]
        if key not in previewer.targets:
            return _not_found()
        site = await previewer.site(key)
        return _headers(Response(previewer.problems_html(site), media_type="text/html; charset=utf-8"), PAGE_POLICY)

    async def preview_file(request: Request) -> Response:
        key, name = request.path_params["key"], request.path_params["name"]
        if key not in previewer.targets:
            return _not_found()
        site = await previewer.site(key)
        served = site.files.get(name)  # an exact name of the rendered previews: `..` or `%2e%2e` never match
        if served is None:
            return _not_found()
        if served.source is not None:
            real = site.contained(served.source)
            if real is None:  # gone, or now a link out of the content tree and layouts
                return _not_found()
            return _headers(FileResponse(real, media_type=served.media_type), PREVIEW_POLICY)
        return _headers(Response(served.data, media_type=served.media_type), PREVIEW_POLICY)

    async def pdf(request: Request) -> Response:
        key, name = request.path_params["key"], request.path_params["name"]
        if key not in previewer.targets:
            return _not_found()
        site = await previewer.site(key)
        what = name.removesuffix(".pdf")
        if not name.endswith(".pdf") or what not in (
            [ISSUE] * (site.target.kind == "issue") + [slug for slug, _, _ in site.briefs]
        ):
            return _not_found()
        return await _pdf_response(previewer, key, what)

    async def events(request: Request) -> Response:
        queue: asyncio.Queue = asyncio.Queue()
        previewer.listeners.add(queue)
        return StreamingResponse(
            _event_stream(previewer, queue, request),
            media_type="text/event-stream",
            headers={**SECURITY_HEADERS, "x-accel-buffering": "no"},
        )

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in PAGE_ASSETS:
            return _not_found()
        return _headers(FileResponse(ASSETS / name, media_type=PAGE_ASSETS[name]), PAGE_POLICY)

    routes = [
        Route("/", home),
        Route("/events", events),
        Route("/_/{name}", asset),
        Route("/p/{key}/", page),
        Route("/p/{key}/problems", problems),
        Route("/p/{key}/pdf/{name}", pdf),
        Route("/p/{key}/{name:path}", preview_file),
    ]
    app = Starlette(routes=routes)
    return HostCheck(app, allowed_hosts)


async def _pdf_response(previewer: Previewer, key: str, what: str) -> Response:
    """The PDF as of the current previews: waits while the worker renders it, then sends it."""
    deadline = time.monotonic() + PDF_WAIT
    while True:
        site = previewer.sites[key]
        if not site.ok:
            return _headers(
                PlainTextResponse("The content has errors: the preview page lists them.", 409), PREVIEW_POLICY
            )
        state = previewer.pdfs.setdefault(key, PdfState())
        result = state.results.get(what)
        if result and result.job.generation == site.generation:
            if result.failure:
                return _headers(PlainTextResponse(result.failure, 500), PREVIEW_POLICY)
            return _headers(Response(result.data, media_type="application/pdf"), PREVIEW_POLICY)
        previewer.want_pdf(site, what)
        remaining = deadline - time.monotonic()
        if remaining <= 0 or previewer.stopping.is_set():
            return _headers(
                PlainTextResponse("The PDF is still being rendered; reload in a moment.", 503), PREVIEW_POLICY
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.changed.wait(), timeout=min(remaining, 1.0))


async def _event_stream(previewer: Previewer, queue: asyncio.Queue, request: Request):
    """``update`` events as they come, a comment every 15 s to keep proxies quiet; ends when the server stops."""
    try:
        yield "retry: 1000\n\n"
        last_beat = time.monotonic()
        while not previewer.stopping.is_set():
            try:
                message = await asyncio.wait_for(queue.get(), timeout=0.25)
            except TimeoutError:
                if time.monotonic() - last_beat > 15:
                    last_beat = time.monotonic()
                    yield ": still here\n\n"
                continue
            yield f"event: update\ndata: {message}\n\n"
    finally:
        previewer.listeners.discard(queue)


def _headers(response: Response, policy: str) -> Response:
    response.headers.update({**SECURITY_HEADERS, "content-security-policy": policy})
    return response


def _not_found() -> Response:
    return _headers(PlainTextResponse("Not found: the preview serves only the rendered editions.", 404), PREVIEW_POLICY)


# --- DNS rebinding -----------------------------------------------------------------------


def allowed_hosts(host: str, port: int) -> set[str]:
    """The ``Host`` headers that name this server: the bound address and port, and when bound to
    loopback, its usual names (localhost, 127.0.0.1, [::1])."""
    names = {_host_name(host)}
    if is_loopback(host):
        names |= {"localhost", "127.0.0.1", "[::1]"}
    return {f"{name}:{port}" for name in names}


def _host_name(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    return host.strip("[]") in ("0.0.0.0", "::", "")


class HostCheck:
    """ASGI middleware: a request whose ``Host`` is not one of ``allowed`` gets a 400 and nothing else.

    Bound to every interface (``--host 0.0.0.0``), any IP address with the right port is
    accepted too: a DNS rebinding attack needs a domain name, and addresses cannot be rebound.
    """

    def __init__(self, app: Any, allowed: set[str]):
        self.app = app
        self.allowed = {name.lower() for name in allowed}
        self.any_address_port = next(
            (name.rsplit(":", 1)[1] for name in allowed if is_wildcard(name.rsplit(":", 1)[0])), None
        )

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket") and not self._allowed(scope):
            response = PlainTextResponse(
                "This preview server answers only to its own address "
                f"({', '.join(sorted(self.allowed))}); this request named another host.",
                400,
            )
            await _headers(response, PREVIEW_POLICY)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _allowed(self, scope) -> bool:
        hosts = [value.decode("latin-1").lower() for name, value in scope["headers"] if name == b"host"]
        if len(hosts) != 1:
            return False
        host = hosts[0]
        if host in self.allowed:
            return True
        if self.any_address_port is not None:
            name, _, port = host.rpartition(":")
            try:
                ipaddress.ip_address(name.strip("[]"))
            except ValueError:
                return False
            return port == self.any_address_port
        return False
