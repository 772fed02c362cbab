"""research-news: research briefs in YAML, published as PDF, web and email."""

__version__ = "0.1.0"
