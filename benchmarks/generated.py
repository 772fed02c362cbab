"""A generated content tree for benchmarks: the sample tree with its issue holding N briefs."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[1]
SAMPLE_ROOT = REPO / "issues"
SAMPLE_ISSUE = SAMPLE_ROOT / "2023-01-data-and-society"


def generate_issue(destination: Path, count: int, sections: int = 1) -> Path:
    """Copy the sample tree into ``destination`` with ``count`` briefs (copies of the sample's,
    cycled) spread over ``sections`` themes; return the generated issue folder. It is in the
    sample's own language only: the translations (``*.<lang>.yaml``) are left out."""
    root = destination / "issues"
    shutil.copytree(SAMPLE_ROOT, root)
    issue = root / SAMPLE_ISSUE.name
    originals = [path for path in sorted((issue / "briefs").glob("*.yaml")) if "." not in path.stem]
    templates = [path.read_text(encoding="utf-8") for path in originals]
    for old in [*(issue / "briefs").glob("*.yaml"), *issue.glob("issue.*.yaml")]:
        old.unlink()
    names = []
    for index in range(count):
        name = f"brief-{index:04d}.yaml"
        (issue / "briefs" / name).write_text(templates[index % len(templates)], encoding="utf-8")
        names.append(f"briefs/{name}")
    yaml = YAML()  # round trip: keeps the sample's events, news and comments
    issue_file = issue / "issue.yaml"
    data = yaml.load(issue_file.read_text(encoding="utf-8"))
    size = (count + sections - 1) // sections
    data["sections"] = [
        {"title": f"Theme {n + 1}", "briefs": names[n * size : (n + 1) * size]}
        for n in range(sections)
        if names[n * size : (n + 1) * size]
    ]
    with issue_file.open("w", encoding="utf-8") as stream:
        yaml.dump(data, stream)
    return issue


def _inline_paragraphs(count: int, invalid_every: int, start: int) -> list[str]:
    """Lines of markdown holding ``count`` inline links, four a line, ten lines a paragraph."""
    lines, words = [], []
    for n in range(start, start + count):
        target = "javascript:void(0)" if n % invalid_every == 0 else f"https://x.io/{n}"
        words.append(f"[a]({target})")
        if len(words) == 4:
            lines.append(" ".join(words))
            words = []
            if len(lines) % 11 == 10:
                lines.append("")  # a blank line ends the paragraph
    if words:
        lines.append(" ".join(words))
    return lines


def _reference_lines(count: int, invalid_every: int, start: int) -> list[str]:
    """A paragraph of ``count`` reference-style links, then their definitions."""
    uses = [
        " ".join(f"[a][r{n}]" for n in range(first, min(first + 8, start + count)))
        for first in range(start, start + count, 8)
    ]
    definitions = [
        f"[r{n}]: " + ("javascript:void(0)" if n % invalid_every == 0 else f"https://x.io/r{n}")
        for n in range(start, start + count)
    ]
    return [*uses, "", *definitions]


def generate_link_brief(destination: Path, links: int = 30_000, invalid_every: int = 10) -> Path:
    """A brief just under the file size cap holding ``links`` markdown links, every
    ``invalid_every``-th one not allowed: two fifths in a literal (``|``) block, two fifths
    in a folded (``>``) block, one fifth reference-style. Written into a copy of the sample
    tree (the checker needs its publication.yaml); returns the brief's path."""
    from research_news.load import MAX_FILE_BYTES

    root = destination / "issues"
    shutil.copytree(SAMPLE_ROOT, root)
    inline, references = links * 2 // 5, links - 2 * (links * 2 // 5)

    def block(indicator: str, lines: list[str]) -> str:
        return f"{indicator}\n" + "".join(f"  {line}\n" if line else "\n" for line in lines)

    text = (
        "title: A brief full of links\nauthors:\n  - name: Ada Example\n"
        "why_it_matters: "
        + block("|", _inline_paragraphs(inline, invalid_every, 0))
        + "methodology: "
        + block(">", _inline_paragraphs(inline, invalid_every, inline))
        + "key_findings: "
        + block("|", _reference_lines(references, invalid_every, 2 * inline))
        + "key_takeaways:\n  - One.\n"
    )
    size = len(text.encode("utf-8"))
    assert size <= MAX_FILE_BYTES, f"{size:,} bytes: over the file size cap; ask for fewer links"
    path = root / SAMPLE_ISSUE.name / "briefs" / "links.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def generate_site(destination: Path, issues: int = 20) -> Path:
    """A content tree of ``issues`` issues for a site: the sample tree's publication, each issue a copy of
    the first sample issue (its editorial, events, images) holding two or three of the sample's five
    briefs (cycled, with their photos and figures), numbered and dated in order; return the tree's root."""
    root = destination / "issues"
    shutil.copytree(SAMPLE_ROOT, root)
    samples = sorted(path for path in SAMPLE_ROOT.iterdir() if (path / "issue.yaml").is_file())
    # originals only: the sample's translations (*.fr.yaml, issue.fr.yaml) would no longer match
    templates = [
        brief for sample in samples for brief in sorted((sample / "briefs").glob("*.yaml")) if "." not in brief.stem
    ]
    for sample in samples:
        shutil.rmtree(root / sample.name)
    yaml = YAML()
    start = dt.date(2030, 1, 6)
    used = 0
    for number in range(1, issues + 1):
        issue = root / f"{start.year + (number - 1) // 26}-{number:02d}-generated-issue"
        shutil.copytree(SAMPLE_ISSUE, issue, ignore=shutil.ignore_patterns("briefs", "issue.*.yaml"))
        for sample in samples:  # every sample image, so that every brief finds its own
            shutil.copytree(sample / "images", issue / "images", dirs_exist_ok=True)
        (issue / "briefs").mkdir()
        names = []
        for _ in range(2 + number % 2):
            template = templates[used % len(templates)]
            used += 1
            text = template.read_text(encoding="utf-8").replace(f"../../{SAMPLE_ISSUE.name}/images/", "../images/")
            (issue / "briefs" / template.name).write_text(text, encoding="utf-8")
            names.append(f"briefs/{template.name}")
        data = yaml.load((issue / "issue.yaml").read_text(encoding="utf-8"))
        data["number"] = number
        data["date"] = (start + dt.timedelta(days=14 * (number - 1))).isoformat()
        data["headline"] = f"Generated issue {number}"
        data["sections"] = [{"title": "Research", "briefs": names}]
        data.pop("events", None)  # events dated before the issue would be warnings
        with (issue / "issue.yaml").open("w", encoding="utf-8") as stream:
            yaml.dump(data, stream)
    return root
