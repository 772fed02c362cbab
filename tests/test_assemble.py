"""Assembly: the edition holds everything templates need, in reading order and language."""

from __future__ import annotations

from pathlib import Path

from research_news.assemble import assemble, image_size
from research_news.validate import load_content


def test_sample_edition_in_reading_order(sample_edition) -> None:
    assert [s.title for s in sample_edition.sections] == [
        "Data processing and responsible digital innovation",
        "Managing innovation responsibly",
    ]
    assert [b.slug for b in sample_edition.briefs] == [
        "customer-value-big-data",
        "data-protection-officer",
        "responsible-innovation-management",
    ]
    assert len({b.id for b in sample_edition.briefs}) == 3
    for brief in sample_edition.briefs:
        assert [p.key for p in brief.parts] == ["why_it_matters", "methodology", "key_findings", "key_takeaways"]
        assert brief.parts_by_key["key_takeaways"].items


def test_quotes_and_figures_are_placed_after_their_part(minimal_edition) -> None:
    parts = minimal_edition.briefs[0].parts_by_key
    assert [q.text for q in parts["key_findings"].quotes] == ["Small is plenty."]  # default placement
    [figure] = parts["methodology"].figures  # figures default to after methodology
    assert figure.image.width == 400 and figure.image.height == 200
    assert figure.image.height_for(200) == 100
    assert figure.image.rel == "2024-05-minimal/images/chart.png"


def test_contacts_fall_back_to_the_team(minimal_edition) -> None:
    assert [p.name for p in minimal_edition.contacts] == ["Eva Editor"]


def test_labels_and_dates_follow_the_language(minimal_issue: Path) -> None:
    issue = minimal_issue / "issue.yaml"
    issue.write_text(issue.read_text() + "language: fr\n")
    edition = assemble(load_content(minimal_issue))
    assert edition.date_label == "14 mai 2024"
    brief = edition.briefs[0]
    assert brief.lang == "fr"
    assert brief.parts_by_key["why_it_matters"].label == "Pourquoi ce sujet est-il important ?"
    assert brief.parts_by_key["key_takeaways"].label == "À retenir"


def test_a_brief_keeps_its_own_language(minimal_issue: Path) -> None:
    brief = minimal_issue / "briefs" / "one.yaml"
    brief.write_text(brief.read_text() + "language: fr\n")
    edition = assemble(load_content(minimal_issue))
    assert edition.lang == "en" and edition.briefs[0].lang == "fr"
    assert edition.briefs[0].parts_by_key["methodology"].label == "Méthodologie"


def test_preheader_defaults_to_the_first_takeaway(minimal_edition) -> None:
    assert minimal_edition.preheader == "Count the small things."
    assert minimal_edition.subject == "Research News #3: A minimal issue"
    assert minimal_edition.web_url == "https://news.example.org/minimal/2024-05-minimal/"


def test_svg_size_from_its_attributes(tmp_path: Path) -> None:
    svg = tmp_path / "f.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 180"></svg>')
    assert image_size(svg) == (320, 180)
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="64px" height="32px"></svg>')
    assert image_size(svg) == (64, 32)


def test_slugs_keep_letters_by_transliterating(minimal_issue: Path) -> None:
    """`étude.yaml` is published as `etude`, not `tude`; a name with no letters still gets one."""
    briefs = minimal_issue / "briefs"
    (briefs / "one.yaml").rename(briefs / "Étude de cas.yaml")
    issue = minimal_issue / "issue.yaml"
    issue.write_text(issue.read_text().replace("briefs/one.yaml", '"briefs/Étude de cas.yaml"'))
    [brief] = assemble(load_content(minimal_issue)).briefs
    assert brief.slug == "etude-de-cas"
    assert brief.id == "brief-etude-de-cas"
    assert all(part.id.startswith("etude-de-cas-") for part in brief.parts)
