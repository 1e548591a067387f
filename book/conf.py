"""The lessons as a book: Sphinx + MyST-NB, run by ``make book``.

    sphinx-build -c book . build/book

The source folder is the repository root, so the README, the notebooks and the docs
are read where they are (their relative links and pictures work as on GitHub) and the
notebooks execute in notebooks/, as under nbval. Only the pages of book/toc.yml are
read. Why this tool, what the site loads when viewed, and how to publish it:
docs/book.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

BOOK = Path(__file__).resolve().parent
ROOT = BOOK.parent
sys.path.insert(0, str(BOOK))

from launch import SOURCE_SUFFIXES, toc_entries  # noqa: E402  (book/launch.py, the book's own extension)

# The kernels inherit this process's environment: sandbox mode and credentials that can
# reach no account, as tests/conftest.py sets them for nbval.
os.environ.pop("AWS_PROFILE", None)
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "WORKMAIL_SANDBOX_MODE": "sandbox",
})

project = "workmail-sandbox"
author = "workmail-sandbox contributors"
copyright = "workmail-sandbox contributors, Apache-2.0"
html_title = "WorkMail Run Lambda lessons"

extensions = ["myst_nb", "launch"]

# ---- which files are pages
root_doc = "README"
include_patterns = [f"{root_doc}.md"] + [entry + suffix for entry in toc_entries() for suffix in SOURCE_SUFFIXES]
# Prune every other top-level folder (.venv, build, the package, data...) so Sphinx never walks it.
exclude_patterns = sorted(
    p.name for p in ROOT.iterdir() if p.is_dir() and p.name not in {"notebooks", "docs", "examples", "data"}
) + ["**/.ipynb_checkpoints", "**/node_modules", "**/.aws-sam"]

# ---- launch links (book/launch.py): set launch_repository when the repository has a public home,
# e.g. "https://github.com/OWNER/workmail-sandbox", or per build: make book BOOK_REPOSITORY=https://...
launch_repository = os.environ.get("WORKMAIL_SANDBOX_BOOK_REPOSITORY", "")
launch_ref = os.environ.get("WORKMAIL_SANDBOX_BOOK_REF", "HEAD")
launch_binder_url = "https://mybinder.org"
launch_lab_url = "http://127.0.0.1:8888/lab/tree/"  # make lab (PORT=8888)

# ---- executing the notebooks: every build runs every lesson; any error fails the build
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_allow_errors = False
nb_execution_show_tb = True  # the failing cell's traceback in the build log
nb_execution_timeout = 300  # seconds per cell; the slowest lesson cell takes a few seconds
nb_execution_in_temp = False  # run in notebooks/, so ../data and ../examples resolve as in JupyterLab
nb_merge_streams = True
# Widgets: the static HTML each widget of the kit renders next to its live view, not the live view.
# The live view would need the widget JavaScript from a CDN; the static view needs nothing.
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
nb_ipywidgets_js: dict[str, dict[str, str]] = {}

myst_heading_anchors = 3  # README and docs link to #section anchors
suppress_warnings = [
    "misc.highlighting_failure",  # ```mermaid and ```console blocks: shown as text
    "myst.header",  # docs pages that start at ## under a table
]

# ---- the site
html_theme = "sphinx_book_theme"
html_theme_options = {
    "home_page_in_toc": True,
    "use_download_button": True,  # the executed .ipynb
    "use_repository_button": False,
    "use_issues_button": False,
    "use_edit_page_button": False,
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
html_static_path: list[str] = []
html_extra_path = [str(BOOK / "_extra")]  # index.html: the front page is README.html
html_last_updated_fmt = ""
html_copy_source = True
html_show_sourcelink = False
