"""research-news site: the sample tree's site, read the way its readers' tools read it.

The site is built once per session (every issue with its offprints, then Pagefind). Reference
managers read a brief page's ``citation_*`` tags and JSON-LD; the citation files go through
real parsers (bibtexparser v2, rispy, jsonschema against the CSL-JSON schema vendored in
tests/schemas); feeds through feedparser and a JSON Feed 1.1 schema; a walker follows every
link of every page; Chromium runs axe-core and searches with Pagefind.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import bibtexparser
import feedparser
import jsonschema
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors, SplitNameParts

from research_news import citations, parallel
from research_news.site import SitePages, SiteResult, build_site, collect, render_site, shape
from research_news.tree import ISSUE_FILE
from tests.browser import describe, run_axe, serve
from tests.conftest import REPO, run_cli
from tests.test_site_cache import files

SAMPLE = REPO / "issues"
SCHEMAS = REPO / "tests" / "schemas"
BASE = "https://news.example.org/research-news/"


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> tuple[Path, SiteResult]:
    """The sample tree's site, built once (read-only for the tests)."""
    out = tmp_path_factory.mktemp("site") / "site"
    return out, build_site(SAMPLE, out, jobs=2)


@pytest.fixture(scope="session")
def out(site) -> Path:
    return site[0]


def brief_pages(out: Path) -> list[Path]:
    return sorted(path for path in out.glob("*/*/index.html") if (path.parent / "share.png").is_file())


class Html(HTMLParser):
    """Every element's attributes, the JSON-LD scripts, and ids."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.json_ld: list[dict] = []
        self.styles: list[str] = []
        self._script: list[str] | None = None
        self._style: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        values = {name: value or "" for name, value in attrs}
        self.elements.append((tag, values))
        if tag == "script" and values.get("type") == "application/ld+json":
            self._script = []
        if tag == "style":
            self._style = []

    def handle_data(self, data):
        for collecting in (self._script, self._style):
            if collecting is not None:
                collecting.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.json_ld.append(json.loads("".join(self._script)))
            self._script = None
        if tag == "style" and self._style is not None:
            self.styles.append("".join(self._style))
            self._style = None

    def meta(self, name: str) -> list[str]:
        return [
            a["content"] for tag, a in self.elements if tag == "meta" and name in (a.get("name"), a.get("property"))
        ]

    @property
    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.elements if a.get("id")}


# --- what the site holds ---------------------------------------------------------------------


def test_every_issue_and_brief_has_its_pages(site):
    out, result = site
    assert result.issues == ["2023-03-advertising-and-democracy", "2023-01-data-and-society"]  # newest first
    assert not result.left_out and result.searchable
    for name in ("index.html", "404.html", "sitemap.xml", "robots.txt", "feed.xml", "feed.json", "issues.xml"):
        assert (out / name).is_file(), name
    for slug in result.issues:
        assert (out / slug / "index.html").is_file() and (out / slug / "cover.png").is_file()
    assert len(brief_pages(out)) == 5
    for page in brief_pages(out):
        slug = page.parent.name
        assert (page.parent.parent / "offprints" / f"{slug}.pdf").is_file()
        assert (page.parent / "share.png").read_bytes()[16:24] == (1200).to_bytes(4, "big") + (630).to_bytes(4, "big")
    assert (out / "people" / "christine-balague" / "index.html").is_file()


def test_a_person_lists_every_brief_of_theirs_across_issues(out):
    page = (out / "people" / "christine-balague" / "index.html").read_text()
    links = re.findall(r'class="brief-list__title"><a href="([^"]+)"', page)
    assert len(links) == 2 and links[0].startswith("../../2023-03-") and links[1].startswith("../../2023-01-")
    assert "https://orcid.org/" in page


def test_issue_pages_link_the_previous_and_next_issue(out):
    newest = (out / "2023-03-advertising-and-democracy" / "index.html").read_text()
    oldest = (out / "2023-01-data-and-society" / "index.html").read_text()
    assert 'rel="prev" href="../2023-01-data-and-society/index.html"' in newest and 'rel="next"' not in newest
    assert 'rel="next" href="../2023-03-advertising-and-democracy/index.html"' in oldest


# --- what reference managers read ----------------------------------------------------------------


def test_a_brief_page_says_what_zotero_and_google_scholar_import(out):
    page = out / "2023-01-data-and-society" / "responsible-innovation-management" / "index.html"
    html = Html(page.read_text())
    title = "Responsible digital innovation in management: a framework for companies"
    authors = ["Christine Balagué", "Ahmad Haidar"]
    pdf = BASE + "2023-01-data-and-society/offprints/responsible-innovation-management.pdf"
    # Highwire Press tags, as Zotero's Embedded Metadata translator and Google Scholar read them
    assert html.meta("citation_title")[0].startswith(title)
    assert html.meta("citation_author") == authors
    assert html.meta("citation_publication_date") == ["2023/01/16"]
    assert html.meta("citation_pdf_url") == [pdf]
    assert html.meta("citation_journal_title") == ["Research News"] and html.meta("citation_issue") == ["1"]
    assert len(html.meta("citation_author_institution")) >= 1
    # schema.org JSON-LD
    [article] = html.json_ld
    assert article["@type"] == "ScholarlyArticle" and article["headline"].startswith(title)
    assert [author["name"] for author in article["author"]] == authors
    assert any(author.get("sameAs", "").startswith("https://orcid.org/") for author in article["author"])
    assert article["datePublished"] == "2023-01-16"
    assert article["encoding"]["contentUrl"] == pdf
    assert article["isPartOf"]["@type"] == "PublicationIssue" and article["isPartOf"]["issueNumber"] == "1"
    assert article["isPartOf"]["isPartOf"] == {"@type": "Periodical", "name": "Research News", "url": BASE}
    # link previews
    assert html.meta("og:image") == [BASE + "2023-01-data-and-society/responsible-innovation-management/share.png"]
    assert html.meta("twitter:card") == ["summary_large_image"]
    assert not [a for tag, a in html.elements if tag == "script" and a.get("src", "").startswith("http")]


def test_json_ld_cannot_be_closed_by_a_title():
    from research_news.site import _json_ld

    text = _json_ld({"headline": "</script><script>alert(1)</script> & <!--"})
    assert "<" not in text and ">" not in text and "&" not in text.replace("\\u0026", "")
    assert json.loads(str(text))["headline"] == "</script><script>alert(1)</script> & <!--"


HOSTILE = citations.Citation(
    key="2024-01-x-brief",
    title='Braces } and { back\\slash, 100% & $5 #1 under_score ^caret ~tilde "quoted" @article{evil, and x}',
    authors=("Ana María de la Cruz", "Ludwig van Beethoven", "Plato", "Jean-Luc And Picard"),
    journal="Research & News {Weekly}",
    issue=3,
    date=dt.date(2024, 2, 29),
    url="https://example.org/a_b/%20x/",
    pdf_url="https://example.org/a.pdf",
    language="en",
    publisher="Good In Tech",
    abstract="Line one\nline two",
    keywords=("GDPR", "data_protection"),
)


def _bibtex_entry(text: str):
    library = bibtexparser.parse_string(
        text, append_middleware=[LatexDecodingMiddleware(), SeparateCoAuthors(), SplitNameParts()]
    )
    assert not library.failed_blocks, library.failed_blocks
    [entry] = library.entries
    return entry


def test_bibtex_keeps_a_hostile_title_whole():
    entry = _bibtex_entry(citations.bibtex(HOSTILE))
    assert entry.entry_type == "article" and entry.key == HOSTILE.key
    # pylatexenc decodes \\textasciicircum as U+02C6 (LaTeX prints ^): the only difference allowed
    assert entry["title"].replace("\u02c6", "^") == HOSTILE.title
    assert entry["journal"] == HOSTILE.journal
    names = entry["author"]
    assert [(" ".join(n.first), " ".join(n.von + n.last) if n.von else " ".join(n.last)) for n in names] == [
        ("Ana María", "de la Cruz"),
        ("Ludwig", "van Beethoven"),
        ("", "Plato"),
        ("Jean-Luc And", "Picard"),
    ]
    assert entry["year"] == "2024" and entry["number"] == "3"
    # url is a verbatim field (url package, biblatex): read it as written, not decoded as LaTeX
    [raw] = bibtexparser.parse_string(citations.bibtex(HOSTILE)).entries
    assert raw["url"] == HOSTILE.url


def test_ris_and_csl_json_keep_a_hostile_title_whole():
    [record] = rispy.loads(citations.ris(HOSTILE))
    assert record["type_of_reference"] == "JOUR" and record["title"] == HOSTILE.title
    assert record["authors"] == ["de la Cruz, Ana María", "van Beethoven, Ludwig", "Plato", "Picard, Jean-Luc And"]
    assert record["abstract"] == "Line one line two"  # one line: RIS has no way to continue a field
    items = json.loads(citations.csl_json(HOSTILE))
    jsonschema.validate(items, json.loads((SCHEMAS / "csl-data.json").read_text()))
    assert items[0]["title"] == HOSTILE.title and items[0]["author"][2] == {"literal": "Plato"}


def test_every_brief_cites_in_bibtex_ris_and_csl_json(out):
    schema = json.loads((SCHEMAS / "csl-data.json").read_text())
    for page in brief_pages(out):
        folder, slug = page.parent, page.parent.name
        html = Html(page.read_text())
        title, authors = html.meta("citation_title")[0], html.meta("citation_author")
        entry = _bibtex_entry((folder / f"{slug}.bib").read_text())
        assert entry["title"] == title
        assert len(entry["author"]) == len(authors)
        [record] = rispy.loads((folder / f"{slug}.ris").read_text())
        assert record["title"] == title and len(record["authors"]) == len(authors)
        assert record["urls"] == [BASE + f"{folder.parent.name}/{slug}/"]
        items = json.loads((folder / f"{slug}.json").read_text())
        jsonschema.validate(items, schema)
        assert items[0]["type"] == "article-journal" and items[0]["title"] == title


# --- feeds and determinism ---------------------------------------------------------------------


def test_the_atom_feeds_parse_cleanly(out):
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert len(feed.entries) == 5
    for entry in feed.entries:
        assert entry.id == entry.link and entry.id.startswith(BASE)
        assert entry.authors and entry.summary and entry.published.startswith("2023-")
        assert any(link.type == "application/pdf" for link in entry.links)
    issues = feedparser.parse((out / "issues.xml").read_bytes())
    assert issues.bozo == 0 and [e.id for e in issues.entries] == [
        BASE + "2023-03-advertising-and-democracy/",
        BASE + "2023-01-data-and-society/",
    ]


def test_the_json_feed_is_valid_json_feed_1_1(out):
    feed = json.loads((out / "feed.json").read_text())
    jsonschema.validate(feed, json.loads((SCHEMAS / "jsonfeed-1.1.schema.json").read_text()))
    assert feed["feed_url"] == BASE + "feed.json" and len(feed["items"]) == 5
    assert all(item["id"].startswith(BASE) and item["attachments"] for item in feed["items"])


def test_the_json_feed_schema_refuses_what_the_spec_refuses():
    schema = json.loads((SCHEMAS / "jsonfeed-1.1.schema.json").read_text())
    good = {"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": [{"id": "1", "content_text": "x"}]}
    jsonschema.validate(good, schema)
    for bad in (
        {**good, "version": "https://jsonfeed.org/version/1"},
        {**good, "items": [{"content_text": "x"}]},  # no id
        {**good, "items": [{"id": "1"}]},  # no content
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


def test_a_rebuild_gives_the_same_bytes_and_the_same_entry_ids(out, tmp_path):
    """Ids and dates come from the content, never the clock: the site's own files are the same again."""
    from research_news.site import SiteResult as Result

    outputs = render_site(shape(collect(SAMPLE, tmp_path, False, Result(tmp_path))), out)
    for output in outputs:
        if output.data is not None:
            assert output.path.read_bytes() == output.data, output.path
    ids = [e.id for e in feedparser.parse((out / "feed.xml").read_bytes()).entries]
    again = next(o.data for o in outputs if o.path.name == "feed.xml")
    assert [e.id for e in feedparser.parse(again).entries] == ids


# --- no link leads nowhere ---------------------------------------------------------------------

_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")


def _local(url: str, page: Path, out: Path) -> tuple[Path, str] | None:
    """The file (and fragment) a link from ``page`` leads to in the site, or None when it leaves the site."""
    if url.startswith(BASE):
        url = url[len(BASE) :]
        base = out / "index.html"
    else:
        base = page
    parts = urlsplit(urljoin(base.as_uri(), url))
    if parts.scheme != "file":
        return None
    target = Path(unquote(parts.path))
    return (target / "index.html" if target.is_dir() else target), parts.fragment


def _links(path: Path) -> list[str]:
    if path.suffix == ".css":
        return [found[1] for found in _CSS_URL.finditer(path.read_text())]
    if path.suffix == ".xml":
        from xml.etree import ElementTree

        tree = ElementTree.parse(path)
        found = [e.get("href") or "" for e in tree.iter() if e.get("href")]
        return found + [e.text or "" for e in tree.iter() if e.tag.rsplit("}", 1)[-1] in ("id", "loc", "uri", "icon")]
    if path.suffix == ".json":
        return [value for value in _strings(json.loads(path.read_text())) if value.startswith("http")]
    if path.suffix == ".txt":
        return re.findall(r"https?://\S+", path.read_text())
    html = Html(path.read_text())
    found = []
    for _, attributes in html.elements:
        for name in ("href", "src"):
            if attributes.get(name):
                found.append(attributes[name])
        for candidate in attributes.get("srcset", "").split(","):
            if candidate.strip():
                found.append(candidate.split()[0])
        if attributes.get("property") in ("og:image", "og:url") or (attributes.get("name") or "").startswith(
            ("citation_pdf", "citation_abstract")
        ):
            found.append(attributes["content"])
    for style in html.styles:
        found += [match[2] for match in _CSS_URL.finditer(style)]
    return found


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_no_link_leads_nowhere(out):
    walked = [
        path
        for path in out.rglob("*")
        if path.suffix in (".html", ".css", ".xml", ".json", ".txt")
        and "pagefind" not in path.relative_to(out).parts
        and not path.name.startswith(".")
        and path.parent.name != "fonts"
    ]
    assert len(walked) > 20
    broken = []
    for path in walked:
        for url in _links(path):
            if url.startswith(("mailto:", "data:", "#")) and not url.startswith("#"):
                continue
            target = _local(url, path, out)
            if target is None:
                continue
            file, fragment = target
            if not file.is_file():
                broken.append(f"{path.relative_to(out)} → {url}")
            elif fragment and file.suffix == ".html" and fragment not in Html(file.read_text()).ids:
                broken.append(f"{path.relative_to(out)} → {url} (no such id)")
    assert not broken, "\n".join(broken)


# --- refusing and leaving out broken issues --------------------------------------------------------


@pytest.fixture
def broken_tree(tmp_path) -> Path:
    """The sample tree with its first issue missing a required field."""
    tree = tmp_path / "issues"
    shutil.copytree(SAMPLE, tree)
    issue = tree / "2023-01-data-and-society" / ISSUE_FILE
    issue.write_text(issue.read_text().replace("date: 2023-01-16\n", ""))
    brief = tree / "2023-03-advertising-and-democracy" / "briefs"
    first = sorted(brief.glob("*.yaml"))[0]
    first.write_text(first.read_text().replace("\nmethodology:", "\nmethodologie:", 1))
    return tree


def test_a_site_with_a_broken_issue_is_refused_with_every_error(broken_tree, tmp_path):
    out = tmp_path / "site"
    result = run_cli("site", broken_tree, "--out", out, "--no-search")
    assert result.exit_code == 1
    assert "2023-01-data-and-society/issue.yaml" in result.stderr and "date" in result.stderr
    assert "2023-03-advertising-and-democracy/briefs/" in result.stderr  # the other issue's error too
    assert "--skip-broken" in result.stderr
    assert not out.exists()


def test_skip_broken_builds_the_rest_and_says_what_it_left_out(broken_tree, tmp_path):
    brief = sorted((broken_tree / "2023-03-advertising-and-democracy" / "briefs").glob("*.yaml"))[0]
    brief.write_text(brief.read_text().replace("\nmethodologie:", "\nmethodology:", 1))
    out = tmp_path / "site"
    result = run_cli("site", broken_tree, "--out", out, "--skip-broken", "--no-search", "--jobs", "1")
    assert result.exit_code == 0, result.stderr
    assert "left out" in result.stderr and "2023-01-data-and-society" in result.stderr
    assert "1 issue" in result.stdout and "left out 1 issue" in result.stdout
    assert (out / "2023-03-advertising-and-democracy" / "index.html").is_file()
    assert not (out / "2023-01-data-and-society").exists()
    assert "2023-01-data-and-society" not in (out / "index.html").read_text()


def test_the_site_needs_web_base_url(tmp_path):
    tree = tmp_path / "issues"
    shutil.copytree(SAMPLE, tree)
    publication = tree / "publication.yaml"
    publication.write_text(re.sub(r"(?m)^web_base_url:.*\n", "", publication.read_text()))
    result = run_cli("site", tree, "--out", tmp_path / "site")
    assert result.exit_code == 1 and "web_base_url" in result.stderr and "publication.yaml:1:1" in result.stderr
    assert not (tmp_path / "site").exists()


def test_an_issue_cannot_take_a_name_the_site_uses(tmp_path):
    tree = tmp_path / "issues"
    shutil.copytree(SAMPLE, tree)
    (tree / "2023-01-data-and-society").rename(tree / "people")
    result = run_cli("site", tree, "--out", tmp_path / "site")
    assert result.exit_code == 1 and "people/issue.yaml:1:1" in result.stderr and "rename" in result.stderr


def test_the_pages_made_in_a_worker_are_those_made_here(tmp_path):
    """With one issue to build, the site's pages are made in the build's worker, from the tree collected
    again there: the files are those this process makes from what it collected."""
    out = tmp_path / "site"
    contents = collect(SAMPLE, out, False, SiteResult(out))
    here, there = SitePages(SAMPLE, out, False, contents), SitePages(SAMPLE, out, False, contents)
    here.start(None)
    with parallel.Workers(1) as pool:
        there.start(pool)
        there.finish()
    assert there.slugs == here.slugs == ["2023-03-advertising-and-democracy", "2023-01-data-and-society"]
    assert [(page.path, page.data) for page in there.pages] == [(page.path, page.data) for page in here.pages]


def site_files(out: Path) -> dict[str, tuple[int, bytes]]:
    """The site's files (not its cache, which may keep what was rendered), with their times and bytes."""
    return {path: stamped for path, stamped in files(out).items() if not path.startswith(".research-news-cache/")}


def test_a_site_template_failing_while_an_issue_builds_leaves_every_file_as_it_was(tmp_path):
    """One issue to build: its build waits for the pages (made meanwhile in its worker) before it writes,
    and writes nothing when they fail. The template fails on one brief's title, so the layout (an input
    of every issue's build) stays the same from one build to the next."""
    tree = tmp_path / "issues"
    shutil.copytree(SAMPLE, tree)
    (tree / "2023-01-data-and-society" / ISSUE_FILE).unlink()  # one issue (its images still used by the other)
    layout = tree / "layouts" / "mine"
    (layout / "site").mkdir(parents=True)
    (layout / "layout.yaml").write_text("name: Mine\n")
    (layout / "site" / "404.html.j2").write_text(
        '{% extends "!parent/site/404.html.j2" %}\n{% block main %}\n'
        '{% if "Broken" in site.issues[0].edition.briefs[0].title %}{{ 1 // 0 }}{% endif %}{{ super() }}\n'
        "{% endblock %}\n"
    )
    publication = tree / "publication.yaml"
    publication.write_text(publication.read_text().replace("layout: default", "layout: mine"))
    out = tmp_path / "site"
    assert build_site(tree, out, jobs=2, pdf_variant=None, search=False).built
    before = site_files(out)
    brief = tree / "2023-03-advertising-and-democracy" / "briefs" / "responsible-digital-advertising.yaml"
    brief.write_text(re.sub(r"(?m)^title: .*$", "title: Broken on purpose", brief.read_text(), count=1))
    result = run_cli("site", tree, "--out", out, "--jobs", "2", "--pdf-variant", "none", "--no-search")
    assert result.exit_code == 1
    assert "layouts/mine/site/404.html.j2:3:1: template error" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert site_files(out) == before


def test_pagefind_runs_as_its_binary_or_else_as_its_module(monkeypatch):
    """Pagefind's binary is run directly (no Python start-up first), found as Pagefind finds it; without
    Pagefind's module, ``python -m pagefind`` says what is missing."""
    import os
    import sys

    from research_news.site import _pagefind

    command = _pagefind()
    assert len(command) == 1 and Path(command[0]).name.startswith("pagefind") and os.access(command[0], os.X_OK)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", "/opt/pagefind/pagefind")  # Pagefind's own setting comes first
    assert _pagefind() == ["/opt/pagefind/pagefind"]
    monkeypatch.delenv("PAGEFIND_BINARY_PATH")
    monkeypatch.setitem(sys.modules, "pagefind.service", None)  # as if not installed: importing it fails
    assert _pagefind() == [sys.executable, "-m", "pagefind"]


def test_a_usage_mistake_exits_2(tmp_path):
    assert run_cli("site", SAMPLE, "--out", tmp_path, "--jobs", "0").exit_code == 2


# --- in Chromium ---------------------------------------------------------------------------------

PAGES = {
    "home": "index.html",
    "issue": "2023-01-data-and-society/index.html",
    "brief": "2023-01-data-and-society/customer-value-big-data/index.html",
    "person": "people/christine-balague/index.html",
    "theme": "themes/gdpr/index.html",
    "search": "search/index.html",
    "404": "404.html",
}


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("width", [375, 1024])
@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_violations(out, new_page, name, width, dark):
    with serve(out) as base:
        # The 404 page links the site by its published address: answered from the folder.
        page = new_page(base + PAGES[name], width, dark=dark, published_at=BASE, folder=out)
        if name == "search":
            page.wait_for_selector(".pagefind-ui__search-input")
        violations = run_axe(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    assert not violations, f"{name} at {width} px:\n" + describe(violations)


def test_search_finds_a_brief_by_a_word_of_its_methodology(out, new_page):
    with serve(out) as base:
        page = new_page(base + PAGES["search"], 1024)
        page.fill(".pagefind-ui__search-input", "thirty")
        page.wait_for_selector(".pagefind-ui__result-link", timeout=10_000)
        found = page.locator(".pagefind-ui__result-link").all_inner_texts()
    assert any("Data Protection Officer" in title for title in found), found
