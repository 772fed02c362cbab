"""Extension points: section types and editions registered by another package's entry points.

The toy package is real: a module and a ``.dist-info`` folder with ``entry_points.txt`` on
``sys.path``, which importlib.metadata reads as it reads any installed distribution.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from research_news import editions, sections
from research_news.assemble import assemble
from research_news.exceptions import ResearchNewsError
from research_news.layout import LayoutError
from research_news.render.email import render_email
from research_news.render.pdf import render_html
from research_news.render.text import Notes, markdown_text, render_text
from research_news.render.web import render_web
from research_news.validate import load_content

TOY = '''
import json

from research_news.editions import Output, Rendered
from research_news.models import IsoDate, Markdown, Strict, Text, WebUrl
from research_news.sections import SectionType


class Job(Strict):
    """A job offer."""

    title: Text
    employer: Text
    url: WebUrl | None = None
    deadline: IsoDate
    summary: Markdown | None = None


JOBS = SectionType("jobs", Job, sort_by="deadline", description="Job offers.")


class JsonEdition:
    title = "the JSON edition"
    help = "issue.json: the issue's data"
    by_default = True

    def missing(self, edition):
        return []

    def render(self, edition, options):
        data = {"number": edition.number, "briefs": [brief.title for brief in edition.briefs],
                "extras": {extra.type: [entry.title for entry in extra.entries] for extra in edition.extras}}
        return Rendered([Output(options.out_dir / "issue.json", json.dumps(data).encode())])
'''

TOY_ENTRY_POINTS = """\
[research_news.sections]
jobs = toy_research_plugin:JOBS

[research_news.editions]
json = toy_research_plugin:JsonEdition
"""

JOBS_YAML = """\
jobs:
  - title: Research engineer, open data
    employer: Data Lab
    deadline: 2024-07-15
  - title: Postdoc in data ethics
    employer: Good in Tech
    url: https://example.org/jobs/postdoc
    deadline: 2024-06-30
    summary: Two years, *full time*; see [the offer](https://example.org/jobs/postdoc-offer).
"""

# One template per edition, each a whole section as the built-in types' are.
JOB_TEMPLATES = {
    "print/extras/jobs.html.j2": """<section class="jobs" id="{{ extra.id }}"><h1>{{ extra.title }}</h1>
{% for job in extra.entries %}<p class="job">{{ job.title }} · {{ job.employer }} · {{ job.deadline_label }}</p>
{{ job.summary_html }}{% endfor %}</section>
""",
    "web/extras/jobs.html.j2": """<section class="listing" id="{{ extra.id }}"><h2>{{ extra.title }}</h2>
{% for job in extra.entries %}<p class="job">{{ job.title }} · {{ job.employer }} · {{ job.deadline_label }}</p>
{{ job.summary_html }}{% endfor %}</section>
""",
    "email/extras/jobs.html.j2": """<tr><td class="block px"><h2>{{ extra.title }}</h2>
{% for job in extra.entries %}<p class="job">{% if job.url %}<a href="{{ job.url }}">{{ job.title }}</a>{% else %}{{ job.title }}{% endif %} · {{ job.deadline_label }}</p>
{{ job.summary_html }}{% endfor %}</td></tr>
""",
    "email/extras/jobs.txt.j2": """{{ extra.title | heading("=") }}

{% for job in extra.entries %}
{{ (job.title ~ ", " ~ job.employer ~ " (" ~ job.deadline_label ~ ")") | fill }}
{% if job.summary_source %}
{{ job.summary_source | markdown_text }}
{% endif %}

{% endfor %}
""",
}


def install(site: Path, monkeypatch: pytest.MonkeyPatch, module: str, code: str, entry_points: str) -> None:
    """A distribution as pip would leave it: the module, and its metadata naming the entry points."""
    (site / f"{module}.py").write_text(code)
    info = site / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, module, raising=False)


@pytest.fixture
def fresh_registries():
    """The registries read again now, and again after the test, without its packages."""
    sections.reset()
    editions.reset()
    yield
    sections.reset()
    editions.reset()


@pytest.fixture
def toy_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registries) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install(site, monkeypatch, "toy_research_plugin", TOY, TOY_ENTRY_POINTS)
    yield
    sys.modules.pop("toy_research_plugin", None)


def house_layout(tree: Path, templates: dict[str, str] = JOB_TEMPLATES, label: str | None = "Job offers") -> Path:
    """A layout extending the default one with the jobs templates and their label."""
    layout = tree / "layouts" / "house"
    for relative, text in templates.items():
        (layout / relative).parent.mkdir(parents=True, exist_ok=True)
        (layout / relative).write_text(text)
    (layout / "layout.yaml").write_text("extends: default\nlabels: [jobs]\n")
    if label:
        (layout / "labels").mkdir()
        (layout / "labels" / "en.yaml").write_text(f"jobs: {label}\n")
    publication = tree / "publication.yaml"
    publication.write_text(publication.read_text() + "layout: house\n")
    return layout


def with_jobs(issue: Path, jobs: str = JOBS_YAML) -> Path:
    (issue / "issue.yaml").write_text((issue / "issue.yaml").read_text() + jobs)
    return issue


# --- section types ---------------------------------------------------------------------


def test_the_built_in_types_are_registered_like_any_other(fresh_registries):
    assert list(sections.registered()) == ["events", "news"]
    assert {"events", "news"} <= set(sections.issue_model().model_fields)


def test_a_registered_section_type_renders_in_all_four_editions(toy_plugin, minimal_tree, minimal_issue):
    house_layout(minimal_tree)
    edition = assemble(load_content(with_jobs(minimal_issue)))
    [extra] = edition.extras
    assert (extra.type, extra.title) == ("jobs", "Job offers")
    # sort_by: by deadline, whatever the order written
    assert [job.title for job in extra.entries] == ["Postdoc in data ethics", "Research engineer, open data"]

    printed, web, email, text = (
        render_html(edition),
        render_web(edition).html,
        render_email(edition),
        render_text(edition),
    )
    for html in (printed, web, email):
        assert "Job offers" in html and "Postdoc in data ethics" in html and "June 30, 2024" in html
        assert "<em>full time</em>" in html  # markdown fields rendered, safely, as for the built-in types
    assert 'href="#jobs"' in printed and 'href="#jobs"' in web  # both contents list it
    assert 'href="https://example.org/jobs/postdoc"' in email  # the type's own template, styles inlined
    assert "Job offers\n==========\n\nPostdoc in data ethics, Good in Tech (June 30, 2024)\n" in text
    # its links are numbered with the rest of the message's
    assert "Two years, full time; see the offer [1]." in text
    assert "[1] https://example.org/jobs/postdoc-offer" in text


def test_a_registered_section_type_is_validated_with_the_issue(toy_plugin, minimal_issue, cli):
    jobs = JOBS_YAML.replace("2024-07-15", "15/07/2024").replace(
        "https://example.org/jobs/postdoc-offer", "javascript:alert(1)"
    )
    with_jobs(minimal_issue, jobs)
    result = cli("check", minimal_issue)
    assert result.exit_code == 1
    assert 'issue.yaml:11:15: jobs[0].deadline: "15/07/2024" is not a date; write it as YYYY-MM-DD' in result.stdout
    assert 'jobs[1].summary: the link "javascript:alert(1)" is not allowed' in result.stdout


def test_a_misspelt_section_key_is_located_with_the_registered_keys(toy_plugin, minimal_issue, cli):
    with_jobs(minimal_issue, JOBS_YAML.replace("jobs:", "jbos:"))
    result = cli("check", minimal_issue)
    assert result.exit_code == 1
    assert "issue.yaml:8:1: unknown field `jbos` (did you mean `jobs`?)" in result.stdout


def test_without_the_package_its_key_is_unknown(fresh_registries, minimal_issue, cli):
    with_jobs(minimal_issue)
    result = cli("check", minimal_issue)
    assert result.exit_code == 1 and "issue.yaml:8:1: unknown field `jobs`" in result.stdout


def test_a_missing_template_names_the_file_to_add(toy_plugin, minimal_tree, minimal_issue, cli):
    layout = house_layout(minimal_tree, {k: v for k, v in JOB_TEMPLATES.items() if not k.startswith("web/")})
    with_jobs(minimal_issue)
    with pytest.raises(LayoutError, match=re.escape("no template web/extras/jobs.html.j2 for the section type 'jobs'")):
        render_web(assemble(load_content(minimal_issue)))
    result = cli("build", minimal_issue, "--out", minimal_tree / "build", "--only", "web")
    assert result.exit_code == 1
    assert f"add {layout.resolve() / 'web/extras/jobs.html.j2'}" in result.stderr
    assert "Traceback" not in result.stderr and not (minimal_tree / "build").exists()


def test_the_default_layout_alone_says_to_make_a_layout(toy_plugin, minimal_issue):
    with_jobs(minimal_issue)
    with pytest.raises(LayoutError, match=r"no label `jobs` to head the section type 'jobs'.*layout.yaml"):
        assemble(load_content(minimal_issue))


def test_a_missing_text_template_names_the_file_to_add(toy_plugin, minimal_tree, minimal_issue):
    house_layout(minimal_tree, {k: v for k, v in JOB_TEMPLATES.items() if not k.endswith(".txt.j2")})
    edition = assemble(load_content(with_jobs(minimal_issue)))
    with pytest.raises(LayoutError, match=re.escape("no template email/extras/jobs.txt.j2")):
        render_text(edition)


def test_a_broken_package_is_an_error_naming_it_not_a_traceback(
    tmp_path, monkeypatch, fresh_registries, minimal_issue, cli
):
    site = tmp_path / "site"
    site.mkdir()
    install(
        site,
        monkeypatch,
        "broken_research_plugin",
        "import no_such_module\n",
        "[research_news.sections]\nbroken = broken_research_plugin:TYPE\n",
    )
    result = cli("check", minimal_issue)
    assert result.exit_code == 1
    assert (
        "the section type 'broken' (broken_research_plugin:TYPE, entry point group research_news.sections) "
        "could not be loaded: ModuleNotFoundError" in result.stderr
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "definition, message",
    [
        ('SectionType("number", Job)', "issue.yaml already has a field `number`"),
        ('SectionType("other", Job)', "is named 'other'; name the entry point and the type alike"),
        ('SectionType("odd", Job, sort_by="date")', "sort_by names 'date', which Job does not have"),
        ('"jobs"', "is a str, not a research_news.sections.SectionType"),
    ],
)
def test_a_section_type_that_cannot_fit_is_refused_with_the_reason(
    tmp_path, monkeypatch, fresh_registries, definition, message
):
    name = definition.split('"')[1] if definition.startswith("SectionType") else "odd"
    entry = "number" if name == "number" else ("odd" if name == "other" else name)
    site = tmp_path / "site"
    site.mkdir()
    code = TOY + f"\nTYPE = {definition}\n"
    install(
        site,
        monkeypatch,
        "odd_research_plugin",
        code,
        f"[research_news.sections]\n{entry} = odd_research_plugin:TYPE\n",
    )
    try:
        with pytest.raises(ResearchNewsError, match=message):
            sections.registered()
    finally:
        sys.modules.pop("odd_research_plugin", None)


# --- the plain-text email is a template ---------------------------------------------------


def test_a_layout_changes_the_plain_text_like_the_other_editions(minimal_tree, minimal_issue):
    layout = minimal_tree / "layouts" / "house"
    (layout / "email").mkdir(parents=True)
    (layout / "email" / "brief.txt.j2").write_text(
        '{% include "!parent/email/brief.txt.j2" +%}\n\n{{ "Word count: " ~ brief.word_count }}\n'
    )
    (minimal_tree / "publication.yaml").write_text((minimal_tree / "publication.yaml").read_text() + "layout: house\n")
    edition = assemble(load_content(minimal_issue))
    text = render_text(edition)
    assert f"\n\nWord count: {edition.briefs[0].word_count}\n\n" in text
    assert text.startswith("MINIMAL CHAIR · RESEARCH NEWS\n")


def test_a_markdown_heading_without_words_is_left_out_of_the_plain_text():
    """`#` alone made max() of nothing fail: a traceback for a typo in an editorial."""
    assert markdown_text("#\n\nSome text.", "en", Notes()) == "Some text."


# --- editions ---------------------------------------------------------------------------


def test_the_built_in_editions_are_registered_in_build_order(fresh_registries):
    assert editions.names() == ("pdf", "offprints", "web", "email")


def test_a_registered_edition_is_built_and_recorded_in_the_manifest(toy_plugin, minimal_tree, minimal_issue, cli):
    house_layout(minimal_tree)
    with_jobs(minimal_issue)
    out = minimal_tree / "build"
    result = cli("build", minimal_issue, "--out", out, "--only", "json,web")
    assert result.exit_code == 0, result.stderr
    folder = out / minimal_issue.name
    data = json.loads((folder / "issue.json").read_text())
    assert data["number"] == 3
    assert data["extras"] == {"jobs": ["Postdoc in data ethics", "Research engineer, open data"]}
    manifest = json.loads((folder / ".research-news-manifest.json").read_text())
    assert manifest["editions"]["json"] == ["issue.json"] and "index.html" in manifest["editions"]["web"]
    assert not (folder / f"{minimal_issue.name}.pdf").exists()  # --only: nothing else


def test_only_takes_its_choices_from_the_registry(toy_plugin, minimal_issue, cli):
    result = cli("build", minimal_issue, "--only", "jsn")
    assert result.exit_code == 2
    assert "--only takes pdf, offprints, web, email, json (comma-separated); got 'jsn'" in result.stderr


def test_an_edition_lacking_the_renderer_methods_is_refused(tmp_path, monkeypatch, fresh_registries):
    site = tmp_path / "site"
    site.mkdir()
    install(
        site,
        monkeypatch,
        "half_research_plugin",
        "class Half:\n    title = 'half'\n",
        "[research_news.editions]\nhalf = half_research_plugin:Half\n",
    )
    try:
        with pytest.raises(
            ResearchNewsError, match="is not an edition renderer: it has no help, by_default, missing, render"
        ):
            editions.registered()
    finally:
        sys.modules.pop("half_research_plugin", None)
