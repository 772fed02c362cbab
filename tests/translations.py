"""A translated edition placed where the bilingual build writes it, for send's tests.

STAND-IN, until branch `bilingual` (issue 12) lands: `build` will then write each translation
L of an issue into ``<out>/<slug>/<L>/`` itself, from ``issue.<L>.yaml`` and ``briefs/x.<L>.yaml``.
Until then :func:`build_translation_by_hand` builds a copy of the content tree with the issue's
``language`` (and headline) changed, and moves that build to ``<out>/<slug>/<L>/``, the same file
names as the top level. To switch to the real build, replace its body with writing the
``.<L>.yaml`` files and one ``research-news build`` of the issue.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from .conftest import run_cli


def build_translation_by_hand(issue_dir: Path, out: Path, language: str, headline: str) -> Path:
    """Build ``issue_dir`` in ``language`` with ``headline`` (email edition only) and place it at
    ``<out>/<slug>/<language>/``; returns that folder."""
    slug = issue_dir.name
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / issue_dir.parent.name
        shutil.copytree(issue_dir.parent, tree, ignore=shutil.ignore_patterns("build"))
        issue = tree / slug / "issue.yaml"
        text = re.sub(r"(?m)^(language|headline):.*\n", "", issue.read_text(encoding="utf-8"))
        issue.write_text(text + f"language: {language}\nheadline: {headline}\n", encoding="utf-8")
        result = run_cli("build", tree / slug, "--only", "email", "--out", Path(scratch) / "out", "--quiet")
        assert result.exit_code == 0, result.stdout + result.stderr
        target = out / slug / language
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(Path(scratch) / "out" / slug, target)
    return target
