"""mkdocs hooks of the site (mkdocs.yml: ``hooks``).

The gallery writes each script's printed output in a fence marked ``.shell``,
which the highlighter colours as code; output is text, so it is shown plain.
"""

import re

# mkdocs-gallery's fence of a script's output: ```{.shell .mkd-glr-script-out-disp }
OUTPUT_FENCE = re.compile(r"^(\s*```\{)\.\w+(\s+\.mkd-glr-script-out-disp\b)", re.M)


def plain_output(markdown: str) -> str:
    """The gallery page's markdown with its output blocks marked as plain text."""
    return OUTPUT_FENCE.sub(r"\1.text\2", markdown)


def on_page_markdown(markdown: str, **kwargs) -> str:
    return plain_output(markdown)
