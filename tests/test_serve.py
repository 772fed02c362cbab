"""`research-news serve`: live previews in a real browser, the Host and path checks, Ctrl-C.

Every server here is real: uvicorn on an ephemeral loopback port, the watcher on a copy of
the sample tree, the PDF worker process. Waits poll for a condition with a generous limit;
nothing asserts on timing (benchmarks/bench_serve.py measures it).
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from research_news.exceptions import ResearchNewsError
from research_news.serve.app import HostCheck, allowed_hosts
from research_news.serve.previews import ContentCache, Served, render_site, targets_for
from research_news.serve.server import PreviewServer
from tests.browser import describe, run_axe

REPO = Path(__file__).resolve().parents[1]
ISSUE = "2023-01-data-and-society"
BRIEF = "briefs/data-protection-officer.yaml"
TITLE = '"The Data Protection Officer: portrait of a new profession"'


def wait_until(condition, timeout: float = 30.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def request(url: str, path: str, host: str | None = None, method: str = "GET") -> tuple[int, bytes]:
    """A raw HTTP request: the path is sent as written (no normalising of `..`), with any Host."""
    address = url.split("//")[1].rstrip("/")
    connection = http.client.HTTPConnection(address, timeout=30)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    connection.putheader("Host", host or address)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


@pytest.fixture
def served(sample_tree):
    """The preview of a writable copy of the sample issue; yields (server, url, issue folder)."""
    issue = sample_tree / ISSUE
    server = PreviewServer(issue, port=0)
    with server.in_thread() as url:
        yield server, url, issue


# --- in the browser ------------------------------------------------------------------------


def test_saved_edits_show_in_the_open_page_and_errors_replace_the_preview(served, browser):
    server, url, issue = served
    brief = issue / BRIEF
    original = brief.read_text(encoding="utf-8")
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(url)
    web = page.frame_locator("iframe.web")
    desktop = page.frame_locator("iframe.email").first
    phone = page.frame_locator("iframe.email").last
    web.get_by_text("portrait of a new profession").first.wait_for()

    brief.write_text(original.replace(TITLE, '"Guardians of the GDPR"'), encoding="utf-8")
    web.get_by_text("Guardians of the GDPR").first.wait_for(timeout=20_000)
    page.click("#tab-email")
    desktop.get_by_text("Guardians of the GDPR").first.wait_for(timeout=20_000)
    phone.get_by_text("Guardians of the GDPR").first.wait_for(timeout=20_000)

    brief.write_text(original.replace(TITLE, '"Guardians: of the GDPR'), encoding="utf-8")  # unclosed quote
    problem = page.locator("#problems .problem.error").first
    problem.wait_for(timeout=20_000)
    site = server.previewer.sites[ISSUE]
    assert site.errors and not site.files
    shown = page.locator("#problems").inner_text()
    for error in site.errors:
        assert str(error) in " ".join(shown.split()), "the page shows the problem as `check` prints it"
    assert re.search(r"data-protection-officer\.yaml:\d+:\d+: ", shown)
    assert page.locator("#previews").is_hidden()

    brief.write_text(original, encoding="utf-8")
    page.locator("#problems .problem.error").first.wait_for(state="detached", timeout=20_000)
    assert page.locator("#previews").is_visible()
    desktop.get_by_text("portrait of a new profession").first.wait_for(timeout=20_000)
    page.click("#tab-web")
    web.get_by_text("portrait of a new profession").first.wait_for(timeout=20_000)


def test_the_language_switch_works_in_the_preview_and_a_rebuild_stays_in_that_language(served, browser):
    _, url, issue = served
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(url)
    web = page.frame_locator("iframe.web")
    web.get_by_text("portrait of a new profession").first.wait_for()
    web.locator('nav.languages a[hreflang="fr"]').click()  # the web edition's own language switch
    web.locator('html[lang="fr"]').wait_for()
    web.get_by_text("nouveau métier").first.wait_for()

    french = issue / "briefs/data-protection-officer.fr.yaml"
    french.write_text(
        french.read_text(encoding="utf-8").replace("nouveau métier", "métier sans précédent"), encoding="utf-8"
    )
    web.get_by_text("métier sans précédent").first.wait_for(timeout=20_000)  # still the French page, rebuilt
    web.locator('nav.languages a[hreflang="en"]').click()
    web.get_by_text("portrait of a new profession").first.wait_for()
    page.context.close()


def test_the_preview_page_is_accessible(served, browser):
    _, url, _ = served
    page = browser.new_page(viewport={"width": 1280, "height": 900}, bypass_csp=True)  # to add axe
    page.goto(url)
    page.frame_locator("iframe.web").locator("main").wait_for()
    violations = run_axe(page)
    page.context.close()
    assert not violations, describe(violations)


def test_a_reload_keeps_the_scroll_position_and_the_email_toggles(served, browser):
    server, url, issue = served
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.context.close()
    page = browser.new_page(viewport={"width": 1440, "height": 900}, bypass_csp=True)  # for wait_for_function
    page.goto(url + f"p/{ISSUE}/#email")
    frame = page.frame_locator("iframe.email").first
    frame.locator("img").first.wait_for()
    page.check("#email-images-off")
    email = page.locator("iframe.email").first
    email.evaluate("frame => frame.contentWindow.scrollTo(0, 900)")
    generation = server.previewer.sites[ISSUE].generation
    (issue / BRIEF).write_text((issue / BRIEF).read_text(encoding="utf-8") + "\n", encoding="utf-8")
    wait_until(lambda: server.previewer.sites[ISSUE].generation > generation, what="a rebuild")
    page.wait_for_function(f"Number(document.body.dataset.generation) > {generation}")
    # The reloaded email, loaded (its load handler restores the scroll and the toggles): not the
    # old one, still scrolled while the new one loads.
    page.wait_for_function(
        "(() => { const w = document.querySelector('iframe.email').contentWindow;"
        " return w.location.search === '?g=' + document.body.dataset.generation"
        " && w.document.readyState === 'complete' && w.scrollY > 800; })()"
    )
    assert email.evaluate("f => Array.from(f.contentDocument.images).every(img => !img.hasAttribute('src'))")


# --- what is previewed ---------------------------------------------------------------------


def test_a_single_brief_is_previewed_alone_with_its_offprint(sample_tree):
    (target,) = targets_for(sample_tree / ISSUE / BRIEF)
    site = render_site(target, ContentCache(), 1)
    assert site.ok, site.problems
    html = site.files["web/index.html"].data.decode()
    assert "portrait of a new profession" in html
    assert 'id="brief-data-protection-officer"' in html
    assert "brief-customer-value-big-data" not in html and "brief-responsible-innovation-management" not in html
    assert [slug for slug, _, _ in site.briefs] == ["data-protection-officer"]


class Links(HTMLParser):
    """The ``href`` of every ``<a>`` and ``<link>`` with an ``hreflang`` of a page, and its stylesheets."""

    def __init__(self):
        super().__init__()
        self.languages: list[tuple[str, str, str]] = []  # (tag, hreflang, href)
        self.stylesheets: list[str] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if "hreflang" in found:
            self.languages.append((tag, found["hreflang"], found["href"]))
        if tag == "link" and found.get("rel") == "stylesheet":
            self.stylesheets.append(found["href"])


def test_the_preview_decides_a_briefs_pagination_once(sample_tree, layouts, monkeypatch):
    """The preview's PDF worker keeps pagination's decisions in memory between saves, as a build keeps
    them in its cache: after a save that changes one brief, the issue is laid out once, without trials,
    the other briefs as decided, and the PDF is the bytes a worker without decisions makes of that content."""
    from research_news.serve import pdfs

    monkeypatch.setattr(pdfs, "_LAYOUTS", {})
    monkeypatch.setattr(pdfs, "_DECISIONS", {})
    (target,) = targets_for(sample_tree / ISSUE)
    first = pdfs.render_job(pdfs.PdfJob(target, pdfs.ISSUE, 1), ContentCache())
    assert first.failure is None and first.data
    whole = layouts[0]
    assert len(layouts) > 2 and min(layouts) < whole  # the first layout, trials of the holed brief, the final
    assert pdfs._DECISIONS[target.key]  # one decision per brief with a hole
    brief = sample_tree / ISSUE / BRIEF
    brief.write_text(brief.read_text().replace("portrait of a new profession", "portrait of a newer profession"))
    layouts.clear()
    again = pdfs.render_job(pdfs.PdfJob(target, pdfs.ISSUE, 2), ContentCache())
    assert layouts == [whole]  # no trial: the issue laid out once
    monkeypatch.setattr(pdfs, "_DECISIONS", {})  # a worker that never saw this issue
    layouts.clear()
    fresh = pdfs.render_job(pdfs.PdfJob(target, pdfs.ISSUE, 3), ContentCache())
    assert len(layouts) > 2  # it tried the holes again
    assert again.data == fresh.data and again.data != first.data
    assert [w.message for w in again.warnings] == [w.message for w in fresh.warnings]


def links_of(html: bytes) -> Links:
    parser = Links()
    parser.feed(html.decode("utf-8"))
    return parser


def test_every_language_of_the_issue_is_previewed_and_their_links_lead_to_each_other(sample_tree):
    (target,) = targets_for(sample_tree / ISSUE)
    site = render_site(target, ContentCache(), 1)
    assert site.ok, site.problems
    assert [(language.code, language.folder) for language in site.languages] == [("en", ""), ("fr", "fr/")]
    pages = {"en": f"/p/{ISSUE}/web/index.html", "fr": f"/p/{ISSUE}/web/fr/index.html"}
    french = site.files["web/fr/index.html"].data.decode()
    assert '<html lang="fr">' in french and "Données, régulation et innovation responsable" in french
    assert "Data, regulation and responsible innovation" in site.files["web/index.html"].data.decode()

    def served(address: str) -> Served:
        path = urlsplit(address).path
        assert path.startswith(f"/p/{ISSUE}/"), address  # in the preview, not the published site
        name = path.removeprefix(f"/p/{ISSUE}/")
        assert name in site.files, address
        return site.files[name]

    for lang, address in pages.items():
        page = served(address).data
        links = links_of(page)
        # The language switch (<a>) and the hreflang alternates (<link>) each lead to that language's page.
        assert {(tag, other) for tag, other, _ in links.languages} >= {("a", "en"), ("a", "fr"), ("link", "fr")}
        for _, other, href in links.languages:
            shown = served(urljoin(address, href)).data
            assert f'<html lang="{"en" if other == "x-default" else other}">'.encode() in shown, (lang, href)
        for stylesheet in links.stylesheets:
            served(urljoin(address, stylesheet))

    for folder, other in (("", "fr"), ("fr/", "en")):  # "Lire en français" in the English email, and back
        email = site.files[f"{folder}email.html"].data
        [(_, _, href)] = [link for link in links_of(email).languages if link[1] == other]
        assert f'<html lang="{other}">'.encode() in served(href).data
    assert "Lire en français" in site.files["email.txt"].data.decode()
    assert "Voir ce numéro dans votre navigateur" in site.files["fr/email.txt"].data.decode()


def test_the_page_shows_the_chosen_languages_previews(served):
    _, url, _ = served
    status, body = request(url, f"/p/{ISSUE}/?lang=fr")
    assert status == 200
    for preview in (f"/p/{ISSUE}/web/fr/index.html", f"/p/{ISSUE}/fr/email.html", f"/p/{ISSUE}/fr/email.txt"):
        assert f'data-src="{preview}"'.encode() in body
    assert b'<a href="?lang=fr" aria-current="page">French</a>' in body and b'<a href="?lang=en">English</a>' in body
    for asked in ("", "?lang=de", "?lang=%3Cscript%3E"):  # not a language of the issue: its own
        status, body = request(url, f"/p/{ISSUE}/{asked}")
        assert status == 200 and f'data-src="/p/{ISSUE}/web/index.html"'.encode() in body and b"<script>" not in body
    status, body = request(url, f"/p/{ISSUE}/web/fr/")
    assert status == 200 and b'<html lang="fr">' in body


@pytest.mark.parametrize(
    ("translation", "old", "new"),
    [
        ("issue.fr.yaml", "headline: Données,", "headline: Nouvelles données,"),
        ("briefs/data-protection-officer.fr.yaml", 'title: "Le délégué', 'title: "Nouvelles du délégué'),
    ],
)
def test_a_saved_translation_refreshes_its_languages_preview(served, translation, old, new):
    server, url, issue = served
    path = issue / translation
    text = path.read_text(encoding="utf-8")
    assert old in text
    generation = server.previewer.sites[ISSUE].generation
    path.write_text(text.replace(old, new), encoding="utf-8")
    changed = new.split('"')[-1].removeprefix("headline: ")
    wait_until(
        lambda: changed.encode() in request(url, f"/p/{ISSUE}/web/fr/index.html")[1],
        what="the French preview to change",
    )
    assert server.previewer.sites[ISSUE].generation > generation
    assert changed.encode() in request(url, f"/p/{ISSUE}/fr/email.html")[1]
    assert changed.encode() not in request(url, f"/p/{ISSUE}/web/index.html")[1]


def test_a_file_deleted_while_serving_is_an_error_in_the_page_then_comes_back(served):
    server, url, issue = served
    brief = issue / BRIEF
    text = brief.read_text(encoding="utf-8")
    brief.unlink()
    wait_until(lambda: server.previewer.sites[ISSUE].errors, what="the missing brief's error")
    status, body = request(url, f"/p/{ISSUE}/")
    assert status == 200 and b"does not exist" in body and b"issue.yaml:" in body
    brief.write_text(text, encoding="utf-8")
    wait_until(lambda: server.previewer.sites[ISSUE].ok, what="the preview to come back")
    assert request(url, f"/p/{ISSUE}/web/index.html")[0] == 200


def test_a_half_written_brief_is_an_error_not_a_crash(served):
    server, url, issue = served
    brief = issue / BRIEF
    text = brief.read_text(encoding="utf-8")
    brief.write_text(text[: len(text) // 3], encoding="utf-8")  # a save cut short
    wait_until(lambda: not server.previewer.sites[ISSUE].ok, what="the error")
    brief.write_text(text, encoding="utf-8")
    wait_until(lambda: server.previewer.sites[ISSUE].ok, what="the preview to come back")
    assert request(url, f"/p/{ISSUE}/email.html")[0] == 200


def test_pdfs_the_issue_and_an_offprint(served):
    _, url, _ = served
    status, body = request(url, f"/p/{ISSUE}/pdf/data-protection-officer.pdf")
    assert status == 200 and body.startswith(b"%PDF-")
    status, body = request(url, f"/p/{ISSUE}/pdf/issue.pdf")
    assert status == 200 and body.startswith(b"%PDF-")
    assert request(url, f"/p/{ISSUE}/pdf/nobody.pdf")[0] == 404


# --- safety: Host, paths, links -------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:{port}",
        "127.0.0.1:1",
        "127.0.0.1",
        "localhost.evil.example:{port}",
        "127.0.0.2:{port}",
    ],
)
def test_requests_naming_another_host_are_refused(served, host):
    _, url, _ = served
    port = url.rstrip("/").rsplit(":", 1)[1]
    for path in ("/", f"/p/{ISSUE}/", f"/p/{ISSUE}/web/index.html", "/events"):
        status, body = request(url, path, host=host.format(port=port))
        assert status == 400, (host, path)
        assert b"<html" not in body and b"Data" not in body


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}", "LOCALHOST:{port}"])
def test_the_loopback_names_are_accepted(served, host):
    _, url, _ = served
    port = url.rstrip("/").rsplit(":", 1)[1]
    assert request(url, f"/p/{ISSUE}/web/index.html", host=host.format(port=port))[0] == 200


def test_allowed_hosts_for_other_bindings():
    assert allowed_hosts("192.0.2.7", 8000) == {"192.0.2.7:8000"}
    assert allowed_hosts("::1", 8000) == {"[::1]:8000", "localhost:8000", "127.0.0.1:8000"}
    check = HostCheck(None, allowed_hosts("0.0.0.0", 8000))

    def scope(host):
        return {"headers": [(b"host", host.encode())]}

    assert check._allowed(scope("192.0.2.7:8000")) and check._allowed(scope("[2001:db8::1]:8000"))
    assert not check._allowed(scope("rebound.example:8000")) and not check._allowed(scope("192.0.2.7:80"))


@pytest.mark.parametrize(
    "path",
    [
        "/p/{issue}/web/../../../../etc/passwd",
        "/p/{issue}/web/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/p/{issue}/web/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/p/{issue}/web/%252e%252e/issue.yaml",
        "/p/{issue}/web/assets/../../issue.yaml",
        "/p/{issue}/issue.yaml",
        "/p/{issue}/briefs/data-protection-officer.yaml",
        "/p/{issue}/web//etc/passwd",
        "/p/..%2f..%2fetc/passwd",
        "/p/{issue}/pdf/..%2f..%2fissue.yaml",
        "/_/..%2fapp.py",
        "/_/page.html.j2",
        "/../../../etc/passwd",
        "//etc/passwd",
    ],
)
def test_only_the_rendered_previews_are_served(served, path):
    _, url, _ = served
    status, body = request(url, path.format(issue=ISSUE))
    assert status in (400, 404), path
    assert b"root:" not in body and b"sections:" not in body and b"title:" not in body and b"import" not in body


def test_a_file_that_became_a_link_out_of_the_tree_is_not_served(served, tmp_path):
    server, url, _ = served
    site = server.previewer.sites[ISSUE]
    name, image = next(
        (name, served) for name, served in site.files.items() if served.source is not None and name.endswith(".png")
    )
    assert request(url, f"/p/{ISSUE}/{name}")[0] == 200
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG secret outside the content tree")
    swapped = image.source.with_name("swapped.png")
    swapped.symlink_to(secret)
    site.files[name] = Served(image.media_type, source=swapped)  # as if swapped between render and request
    status, body = request(url, f"/p/{ISSUE}/{name}")
    assert status == 404 and b"secret" not in body


def test_a_preview_runs_no_script(served):
    _, url, _ = served
    address = url.split("//")[1].rstrip("/")
    connection = http.client.HTTPConnection(address, timeout=30)
    connection.request("GET", f"/p/{ISSUE}/web/index.html")
    response = connection.getresponse()
    response.read()
    assert "script-src 'none'" in response.getheader("content-security-policy")
    assert response.getheader("x-content-type-options") == "nosniff"


# --- the command -----------------------------------------------------------------------------


def _start(args: list[str], cwd: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    process = subprocess.Popen(
        [sys.executable, "-m", "research_news", "serve", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = ""
    while "Previewing" not in first:
        line = process.stderr.readline()
        if not line:
            raise AssertionError(f"serve did not start: {first}{process.stderr.read()}")
        first += line
    return process, first


def test_ctrl_c_stops_it_cleanly_with_a_page_listening(sample_tree):
    process, started = _start([str(sample_tree), "--port", "0"], sample_tree.parent)
    url = started.split(" at ")[1].split(" ")[0]
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    listener = socket.create_connection(("127.0.0.1", port))  # an open page's event stream
    listener.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    assert b"text/event-stream" in listener.recv(4096)
    process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=20)
    finally:
        process.kill()
        listener.close()
    assert process.returncode == 0, err
    assert "Traceback" not in err and "Stopped." in err


def test_a_host_beyond_loopback_is_warned_about(sample_tree):
    process, started = _start([str(sample_tree / ISSUE), "--host", "0.0.0.0", "--port", "0"], sample_tree.parent)
    process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=20)
    finally:
        process.kill()
    assert "warning: listening on 0.0.0.0" in started + err
    assert "Traceback" not in err


def test_a_port_in_use_is_one_line(sample_tree, cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve", sample_tree, "--port", str(port))
    assert result.exit_code == 1
    assert f"port {port} is already in use" in result.stderr and "Traceback" not in result.stderr


def test_a_path_that_is_no_content_is_a_usage_error(tmp_path, cli):
    result = cli("serve", tmp_path, "--port", "0")
    assert result.exit_code == 2 and "is not a content tree" in result.stderr
    with pytest.raises(ResearchNewsError):
        targets_for(tmp_path / "missing")
