"""research-news site, built again: what changed is redone, the rest reused, nothing served stale.

The sample tree (two issues, five briefs) in a layout of its own is built cold once; each test
starts from a copy of that build put back at the same place (the caches record absolute paths),
changes something and builds again, then reads what :class:`SiteResult` says was rendered and
what the files on disk are.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from research_news.exceptions import ContentError
from research_news.layout import BUILTIN_LAYOUTS
from research_news.manifest import MANIFEST_NAME
from research_news.site import SiteResult, build_site
from tests.conftest import REPO, run_cli

SAMPLE = REPO / "issues"
OLD, NEW = "2023-01-data-and-society", "2023-03-advertising-and-democracy"
CHANGED_BRIEF = "responsible-innovation-management"


def build(place: Path, **options) -> SiteResult:
    return build_site(place / "issues", place / "out", jobs=2, pdf_variant=None, **options)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> tuple[Path, Path]:
    """(where the tests build, a copy of its cold build): the sample tree in layout ``mine``
    (the default with its own share card stylesheet), built once."""
    place = tmp_path_factory.mktemp("site-cache") / "place"
    shutil.copytree(SAMPLE, place / "issues")
    mine = place / "issues" / "layouts" / "mine"
    (mine / "site").mkdir(parents=True)
    (mine / "layout.yaml").write_text("name: Mine\n")
    shutil.copy(BUILTIN_LAYOUTS / "default" / "site" / "share.css", mine / "site" / "share.css")
    publication = place / "issues" / "publication.yaml"
    publication.write_text(publication.read_text().replace("layout: default", "layout: mine"))
    cold = build(place)
    assert sorted(cold.built) == [OLD, NEW] and cold.indexed and not cold.up_to_date
    snapshot = place.parent / "snapshot"
    shutil.copytree(place, snapshot, symlinks=True)
    return place, snapshot


@pytest.fixture
def place(pristine) -> Path:
    """The cold build, as it was (at the path it was built at)."""
    place, snapshot = pristine
    shutil.rmtree(place)
    shutil.copytree(snapshot, place, symlinks=True)
    return place


def files(out: Path) -> dict[str, tuple[int, bytes]]:
    """Every file of the site (its caches too): modification time and bytes, by path."""
    return {
        path.relative_to(out).as_posix(): (path.stat().st_mtime_ns, path.read_bytes())
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


def test_a_second_build_is_up_to_date_and_touches_nothing(place):
    before = files(place / "out")
    again = build(place)
    assert again.up_to_date
    assert again.built == [] and sorted(again.reused) == [OLD, NEW]
    assert again.images_rendered == [] and again.images_reused == 7  # two covers, five cards
    assert again.written == 0 and not again.indexed and again.removed == []
    assert files(place / "out") == before  # not one file rewritten: same bytes, same times
    said = run_cli("site", place / "issues", "--out", place / "out", "--pdf-variant", "none", "-q")
    assert said.exit_code == 0 and said.stdout.startswith("Up to date: ") and "nothing changed" in said.stdout


def test_one_brief_changed_redoes_its_issue_its_pages_and_the_feeds_only(place):
    out = place / "out"
    before = files(out)
    brief = place / "issues" / OLD / "briefs" / f"{CHANGED_BRIEF}.yaml"
    brief.write_text(brief.read_text().replace("Responsible digital innovation in management", "Responsible change"))
    again = build(place)
    assert again.built == [OLD] and again.reused == [NEW]
    assert f"{OLD}/{CHANGED_BRIEF}/share.png" in again.images_rendered
    assert not [path for path in again.images_rendered if path.startswith(NEW) or "customer-value" in path]
    after = files(out)
    changed = {path for path in after if after[path] != before.get(path)}
    for path in (f"{OLD}/{CHANGED_BRIEF}/index.html", f"{OLD}/index.html", "feed.xml", "feed.json"):
        assert path in changed, path
    assert f"{OLD}/offprints/{CHANGED_BRIEF}.pdf" in changed
    assert not [path for path in changed if path.startswith(f"{NEW}/")]  # the other issue: not one file
    other = f"{OLD}/offprints/customer-value-big-data.pdf"  # the issue's build writes it again, from its cache
    assert after[other][1] == before[other][1]
    assert again.indexed and "Responsible change" in (out / f"{OLD}/{CHANGED_BRIEF}/index.html").read_text()


def test_a_share_card_stylesheet_change_draws_every_card_again(place):
    stylesheet = place / "issues" / "layouts" / "mine" / "site" / "share.css"
    stylesheet.write_text(stylesheet.read_text() + "\nbody { background: #f0e0c0; }\n")
    cards = sorted(path.relative_to(place / "out").as_posix() for path in (place / "out").glob("*/*/share.png"))
    before = {card: (place / "out" / card).read_bytes() for card in cards}
    again = build(place)
    assert len(cards) == 5 and set(cards) <= set(again.images_rendered)
    assert all((place / "out" / card).read_bytes() != before[card] for card in cards)


def test_a_corrupt_cache_is_ignored_and_the_same_site_made_again(place):
    out = place / "out"
    before = {path: data for path, (_, data) in files(out).items() if not path.startswith(".research-news-cache/")}
    for stored in (out / ".research-news-cache").rglob("*"):
        if stored.is_file():
            stored.write_bytes(b"{not what was stored")
    again = build(place)
    assert sorted(again.built) == [OLD, NEW] and len(again.images_rendered) == 7
    after = {path: data for path, (_, data) in files(out).items() if not path.startswith(".research-news-cache/")}
    assert after.keys() == before.keys()
    assert [path for path in before if after[path] != before[path] and not path.startswith("pagefind/")] == []
    assert build(place).up_to_date  # and the cache is whole again


def test_force_renders_everything_again(place):
    out = place / "out"
    before = files(out)
    said = run_cli("site", place / "issues", "--out", out, "--pdf-variant", "none", "--force", "-q")
    assert said.exit_code == 0 and said.stdout.startswith("Built the site")
    after = files(out)
    for path in (
        f"{OLD}/{OLD}.pdf",
        f"{NEW}/offprints/political-ads-2022.pdf",
        f"{NEW}/cover.png",
        "pagefind/pagefind.js",
    ):
        assert after[path][0] != before[path][0], path  # written again
        assert after[path][1] == before[path][1] or path.startswith("pagefind/"), path  # the same bytes


def test_a_removed_issue_takes_its_pages_and_its_build_folder_with_it(place):
    out = place / "out"
    assert (out / NEW / f"{NEW}.pdf").is_file() and (out / ".research-news-cache" / NEW).is_dir()
    shutil.rmtree(place / "issues" / NEW)
    again = build(place)
    assert again.issues == [OLD] and again.removed == [NEW]
    assert not (out / NEW).exists()  # its pages, its PDF, its offprints, its web edition, its manifest
    assert not (out / ".research-news-cache" / NEW).exists()
    assert NEW not in (out / "feed.xml").read_text()
    assert (out / OLD / f"{OLD}.pdf").is_file() and build(place).up_to_date


def test_a_build_the_site_never_published_is_left_alone(place):
    """``site --out`` into a folder where ``research-news build`` also wrote an issue of another tree:
    the site removes the builds of the issues it published and no longer does, not that one."""
    out = place / "out"
    other = REPO / "tests" / "fixtures" / "minimal" / "2024-05-minimal"
    assert run_cli("build", other, "--out", out, "--only", "web", "-q").exit_code == 0
    foreign = {path.relative_to(out) for path in (out / "2024-05-minimal").rglob("*")}
    assert foreign and (out / ".research-news-cache" / "2024-05-minimal").is_dir()
    shutil.rmtree(place / "issues" / NEW)
    again = build(place)
    assert again.removed == [NEW] and not (out / NEW).exists()
    assert {path.relative_to(out) for path in (out / "2024-05-minimal").rglob("*")} == foreign
    assert (out / ".research-news-cache" / "2024-05-minimal").is_dir()


def test_search_is_indexed_again_only_when_the_pages_changed(place):
    out = place / "out"
    index = out / "pagefind" / "pagefind.js"
    stamp = index.stat().st_mtime_ns
    assert not build(place).indexed and index.stat().st_mtime_ns == stamp
    page = out / OLD / CHANGED_BRIEF / "index.html"
    page.write_text(page.read_text() + "<!-- edited by hand -->")
    again = build(place)  # the page is written back as rendered: Pagefind would read what it read
    assert again.written == 1 and not again.indexed and "edited by hand" not in page.read_text()
    shutil.rmtree(out / "pagefind")
    assert build(place).indexed and index.is_file()


@pytest.fixture
def collected(monkeypatch) -> list[Path]:
    """The trees the site checked issue by issue (a site answered from its record checks none)."""
    from research_news import site

    calls: list[Path] = []
    collect = site.collect

    def counted(root, *args, **kwargs):
        calls.append(root)
        return collect(root, *args, **kwargs)

    monkeypatch.setattr(site, "collect", counted)
    return calls


def test_nothing_changed_is_answered_from_the_record_as_a_full_check_would(place, collected, monkeypatch):
    """Not one issue read or checked, and the same result: issues, files, warnings."""
    from research_news import site

    fast = build(place)
    assert fast.up_to_date and collected == []
    monkeypatch.setattr(site, "site_state", lambda *args: None)
    full = build(place)
    assert full.up_to_date and len(collected) == 1
    for name in ("issues", "reused", "files", "issue_files", "images_reused", "searchable", "warnings"):
        assert getattr(fast, name) == getattr(full, name), name
    assert fast.warnings  # the sample has notes and warnings: they are said again


def test_the_record_answers_only_for_the_same_options_and_working_folder(place, collected, monkeypatch, tmp_path):
    assert build(place, search=False).up_to_date and len(collected) == 1  # another option: checked in full
    assert build(place, search=False).up_to_date and len(collected) == 1  # recorded for it: answered
    monkeypatch.chdir(tmp_path)  # the warnings name files relative to the working folder: checked in full
    assert build(place, search=False).up_to_date and len(collected) == 2


def test_content_changed_while_the_site_was_built_is_not_recorded(place, collected, monkeypatch):
    """The pages are made from the YAML as checked (and the layout as it was then); the issues' builds read
    them again. When the two differ (a file edited while the site was built), the record is not written:
    the issues' records would vouch for pages of the older content. The next site checks in full."""
    from research_news import site

    record = place / "out" / ".research-news-cache" / "site.json"
    record.unlink()
    pages_of = site.pages_of

    def seen_before_an_edit(contents, out):
        slugs, pages, made_from = pages_of(contents, out)
        brief = next(path for path in made_from if path.endswith(f"{CHANGED_BRIEF}.yaml"))
        return slugs, pages, {**made_from, brief: "the bytes before an edit"}

    monkeypatch.setattr(site, "pages_of", seen_before_an_edit)
    build(place)
    assert not record.exists()
    monkeypatch.setattr(site, "pages_of", pages_of)
    assert build(place).up_to_date and record.exists() and len(collected) == 2
    assert build(place).up_to_date and len(collected) == 2


def test_a_site_manifest_edited_by_hand_is_checked_in_full(place, collected):
    """The site's manifest says what the next build prunes: the record answers only while it is as written."""
    manifest = place / "out" / MANIFEST_NAME
    data = json.loads(manifest.read_text())
    data["stale"] = ["people/someone-gone/index.html"]
    manifest.write_text(json.dumps(data))
    again = build(place)  # in full: the manifest is written again, as the files are
    assert again.written == 1 and not again.built and len(collected) == 1
    assert build(place).up_to_date and len(collected) == 1  # from the record again


def test_an_issue_with_briefs_it_does_not_list_is_never_answered_from_the_record(tmp_path):
    """The site checks a brief the issue does not list (its images too); no build reads it, so no record vouches for it."""
    from research_news.site import _has_unlisted_briefs, collect

    tree = tmp_path / "issues"
    shutil.copytree(SAMPLE, tree)
    contents = collect(tree, tmp_path / "out", False, SiteResult(tmp_path / "out"))
    assert not any(_has_unlisted_briefs(content) for content in contents)
    briefs = tree / NEW / "briefs"
    shutil.copy(briefs / "political-ads-2022.yaml", briefs / "a-draft.yaml")
    contents = collect(tree, tmp_path / "out", False, SiteResult(tmp_path / "out"))
    assert [_has_unlisted_briefs(content) for content in contents] == [False, True]


# --- one issue changed: built first, the tree checked meanwhile in its worker -----------------------

SAID = ("issues", "built", "reused", "files", "issue_files", "images_rendered", "images_reused", "warnings")


def retitled(place: Path) -> None:
    brief = place / "issues" / OLD / "briefs" / f"{CHANGED_BRIEF}.yaml"
    brief.write_text(brief.read_text().replace("Responsible digital innovation in management", "Responsible change"))


def broken(place: Path) -> None:
    brief = place / "issues" / OLD / "briefs" / f"{CHANGED_BRIEF}.yaml"
    text = brief.read_text()
    assert text.startswith("title:")
    brief.write_text("titel:" + text.removeprefix("title:"))


def both_ways(pristine, monkeypatch, change, **options) -> list[tuple[SiteResult | ContentError, dict[str, bytes]]]:
    """What the site says and the bytes of its files after ``change``: built as the record says (the one
    changed issue first, the tree checked in its worker), then, from the same cold build, checked in full."""
    from research_news import site

    made = []
    for full in (False, True):
        place, snapshot = pristine
        shutil.rmtree(place)
        shutil.copytree(snapshot, place, symlinks=True)
        change(place)
        with monkeypatch.context() as patched:
            if full:
                patched.setattr(site, "site_state", lambda *args: None)
            try:
                said: SiteResult | ContentError = build(place, **options)
            except ContentError as error:
                said = error
        made.append((said, {path: data for path, (_, data) in site_files(place / "out").items()}))
    return made


def site_files(out: Path) -> dict[str, tuple[int, bytes]]:
    return {path: stamped for path, stamped in files(out).items() if not path.startswith(".research-news-cache/")}


def test_one_changed_issue_is_built_while_its_worker_checks_the_tree_as_a_full_check_would(
    pristine, collected, monkeypatch
):
    (fast, fast_files), (full, full_files) = both_ways(pristine, monkeypatch, retitled)
    assert len(collected) == 1  # the full check's: the record named the one issue, and this process checked none
    assert isinstance(fast, SiteResult) and isinstance(full, SiteResult)
    assert fast.built == [OLD] and fast.reused == [NEW] and fast.indexed
    for name in SAID:
        assert getattr(fast, name) == getattr(full, name), name
    assert fast_files.keys() == full_files.keys()
    assert [path for path in fast_files if fast_files[path] != full_files[path]] == []
    assert "Responsible change" in fast_files[f"{OLD}/{CHANGED_BRIEF}/index.html"].decode()


def test_a_changed_issue_with_an_error_stops_the_site_or_is_left_out_as_a_full_check_would(pristine, monkeypatch):
    (fast, fast_files), (full, full_files) = both_ways(pristine, monkeypatch, broken)
    assert isinstance(fast, ContentError) and isinstance(full, ContentError)
    assert fast.problems == full.problems and any("titel" in problem.message for problem in fast.problems)
    _, snapshot = pristine
    cold = {path: data for path, (_, data) in site_files(snapshot / "out").items()}
    assert fast_files == full_files == cold  # nothing written

    left_out_alike(both_ways(pristine, monkeypatch, broken, skip_broken=True), left=OLD, kept=NEW)


def left_out_alike(made: list[tuple[SiteResult | ContentError, dict[str, bytes]]], left: str, kept: str) -> None:
    """Built both ways with ``--skip-broken``: the issue ``left`` is left out for the same errors, the site
    publishes ``kept`` alone, and says and writes the same, with none of ``left``'s files."""
    (fast, fast_files), (full, full_files) = made
    assert isinstance(fast, SiteResult) and isinstance(full, SiteResult)
    assert [out.issue_dir.name for out in fast.left_out] == [left] and fast.issues == [kept]
    assert [out.problems for out in fast.left_out] == [out.problems for out in full.left_out]
    for name in (*SAID, "removed"):
        assert getattr(fast, name) == getattr(full, name), name
    assert fast_files == full_files and not [path for path in fast_files if path.startswith(f"{left}/")]


def test_an_issue_changed_after_the_record_was_read_is_built_too(place, monkeypatch):
    """The record named one issue; the worker, checking the others' builds, finds a second changed since."""
    from research_news import site

    retitled(place)
    state = site.site_state((place / "issues").resolve(), place / "out", None, True)
    assert state is not None and [folder.name for folder in state.stale] == [OLD]
    brief = place / "issues" / NEW / "briefs" / "political-ads-2022.yaml"
    brief.write_text(brief.read_text().replace("\ntitle:", "\ntitle: Retitled #", 1))
    monkeypatch.setattr(site, "site_state", lambda *args: state)
    again = build(place)
    assert sorted(again.built) == [OLD, NEW] and again.reused == []
    assert "Retitled" in (place / "out" / NEW / "political-ads-2022" / "index.html").read_text()
    monkeypatch.undo()
    assert build(place).up_to_date


def numbered_as_the_other(place: Path) -> None:
    """The newer issue takes the older one's number: an error of the series, which it, the later, is given."""
    issue = place / "issues" / NEW / "issue.yaml"
    issue.write_text(issue.read_text().replace("number: 2", "number: 1", 1))


def test_a_changed_issue_the_series_leaves_out_writes_nothing_as_a_full_check_would(pristine, monkeypatch):
    """Its own check passes, so its build lays it out; only the tree's check leaves it out (``skip_broken``):
    the build must then write none of its files."""
    from research_news import build as building

    written: list[str] = []
    write_outputs = building.write_outputs

    def seen(outputs, inside, **options):
        written.append(Path(inside).name)
        return write_outputs(outputs, inside=inside, **options)

    monkeypatch.setattr(building, "write_outputs", seen)
    made = both_ways(pristine, monkeypatch, numbered_as_the_other, skip_broken=True)
    assert NEW not in written  # not written, then removed with the issues the site no longer has: never written
    left_out_alike(made, left=NEW, kept=OLD)


def indexed_text(out: Path) -> str:
    """What Pagefind's index holds of the pages' text (its fragments: gzipped, after a signature)."""
    import gzip

    return " ".join(gzip.decompress(path.read_bytes()).decode() for path in (out / "pagefind" / "fragment").iterdir())


def test_a_search_run_started_ahead_is_taken_only_for_the_pages_it_read(place, monkeypatch):
    """Pagefind may start on the pages before the site is finished (one issue built): when the pages then
    differ from those it read, it is stopped and run again; when they do not, its index is the site's."""
    from research_news import site
    from research_news.site import index_search, start_indexing

    runs: list[Path] = []
    start = site._start_pagefind

    def counted(out, pages):
        runs.append(out)
        return start(out, pages)

    monkeypatch.setattr(site, "_start_pagefind", counted)

    out = place / "out"
    assert start_indexing(out) is None  # the index is already that of the pages
    page = out / OLD / CHANGED_BRIEF / "index.html"
    original = page.read_text()

    def marked(word: str) -> str:
        text = original.replace("data-pagefind-body>", f"data-pagefind-body><p>{word}</p>", 1)
        assert text != original
        return text

    page.write_text(marked("zebrafinch"))
    ahead = start_indexing(out)
    assert ahead is not None and ahead.process.wait() == 0  # it has read the pages: now they change
    page.write_text(original)  # back as they were indexed: the run started is stopped, the index stays
    assert not index_search(out, started=ahead) and not ahead.fresh.exists()
    assert "zebrafinch" not in indexed_text(out)
    page.write_text(marked("zebrafinch"))
    ahead = start_indexing(out)
    assert ahead is not None and ahead.process.wait() == 0
    page.write_text(marked("kingfisher"))  # changed again after it started: run again
    assert index_search(out, started=ahead) and not ahead.fresh.exists() and len(runs) == 3
    assert "kingfisher" in indexed_text(out) and "zebrafinch" not in indexed_text(out)
    ahead = start_indexing(out)
    assert ahead is None  # recorded as the index of these pages
    page.write_text(marked("zebrafinch"))
    ahead = start_indexing(out)
    assert ahead is not None and len(runs) == 4
    assert index_search(out, started=ahead) and len(runs) == 4  # the pages it read: its index is the site's
    assert ahead.process.returncode == 0 and "zebrafinch" in indexed_text(out)
    assert not index_search(out)


def test_writing_the_pages_ahead_fails_as_the_sites_write_not_as_the_issues(place, monkeypatch):
    from research_news import site
    from research_news.write import WriteFailed

    def failing(outputs, inside):
        raise WriteFailed(f"could not write {inside / 'index.html'}: no space left on device; no file was replaced")

    monkeypatch.setattr(site, "write_ahead", failing)
    retitled(place)
    with pytest.raises(WriteFailed, match="no space left") as failed:
        build(place)
    assert not str(failed.value).startswith(str(place / "issues"))  # not "<issue folder>: …"
    assert not (place / "out" / ".pagefind-new").exists()


def test_pagefind_interrupted_while_the_site_waits_is_stopped_and_leaves_nothing(tmp_path, monkeypatch):
    import subprocess

    from research_news.site import Indexing

    fresh = tmp_path / ".pagefind-new"
    fresh.mkdir()
    indexing = Indexing("key", subprocess.Popen(["sleep", "30"]), fresh)
    waited = indexing.process.communicate

    def interrupted(timeout=None):
        if timeout is not None:
            raise KeyboardInterrupt
        return waited()

    monkeypatch.setattr(indexing.process, "communicate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        indexing.finish(tmp_path)
    assert indexing.process.returncode is not None and not fresh.exists()
