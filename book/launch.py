"""Sphinx extension of the book: a launch bar on every lesson page, and the table of contents.

Each page built from a notebook gets, under its title, a link that opens the same
notebook in a local JupyterLab (``make lab``) and one that opens it on mybinder.org,
and its headings get JupyterLab's anchors (``#On-real-AWS``) besides Sphinx's.
The Binder address is built from ``launch_repository`` (a GitHub or GitLab project
address, or any public git URL) and ``launch_ref``; while ``launch_repository`` is
empty (the repository has no public home yet) the bar says so instead of linking to a
repository that does not exist.

The table of contents lives in ``book/toc.yml``; :func:`toc_pages` reads it and the
``source-read`` hook appends it to the front page as a toctree, so the README itself is
left as it is on GitHub.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import yaml

TOC_FILE = Path(__file__).resolve().parent / "toc.yml"
ROOT = TOC_FILE.parent.parent
SOURCE_SUFFIXES = (".md", ".ipynb")
BINDER_URL = "https://mybinder.org"
LAB_URL = "http://127.0.0.1:8888/lab/tree/"  # make lab: JupyterLab on 127.0.0.1:8888, root notebooks/
NOTEBOOKS = "notebooks/"


class LaunchConfigError(ValueError):
    """A launch setting in book/conf.py cannot be used."""


def read_toc(path: Path = TOC_FILE) -> list[dict[str, Any]]:
    """The sections of book/toc.yml: ``[{"caption": str, "pages": [docname, ...]}, ...]``."""
    sections = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(sections, list) or not all(
        isinstance(s, dict) and isinstance(s.get("caption"), str) and isinstance(s.get("pages"), list)
        for s in sections
    ):
        raise LaunchConfigError(f"{path}: expected a list of {{caption: ..., pages: [...]}} sections; fix the file")
    return sections


def toc_entries(path: Path = TOC_FILE) -> list[str]:
    """Every entry of the table of contents, in order: docnames (paths from the repository root, no
    suffix) or patterns with ``*``."""
    return [str(page) for section in read_toc(path) for page in section["pages"]]


def toc_pages(path: Path = TOC_FILE, *, root: Path = ROOT) -> list[str]:
    """Every page of the table of contents, in order, patterns expanded as Sphinx's toctree ``:glob:``
    does (sorted, pages already listed left out)."""
    pages: list[str] = []
    for entry in toc_entries(path):
        if "*" not in entry:
            found = [entry]
        else:
            found = sorted({
                p.relative_to(root).with_suffix("").as_posix()
                for suffix in SOURCE_SUFFIXES for p in root.glob(entry + suffix)
            })
        pages += [page for page in found if page not in pages]
    return pages


def toctree_markdown(sections: list[dict[str, Any]]) -> str:
    """The MyST toctrees for the front page (hidden: the theme shows them in the sidebar)."""
    blocks = []
    for section in sections:
        pages = "\n".join(str(page) for page in section["pages"])
        glob = "\n:glob:" if any("*" in str(page) for page in section["pages"]) else ""
        blocks.append(f"\n\n```{{toctree}}\n:hidden:{glob}\n:caption: {section['caption']}\n\n{pages}\n```\n")
    return "".join(blocks)


def binder_url(repository: str, ref: str, notebook: str, *, binder: str = BINDER_URL) -> str:
    """The mybinder.org address that opens ``notebook`` (a path from the repository root) in JupyterLab.

    ``repository`` is ``https://github.com/OWNER/NAME``, ``https://gitlab.com/GROUP/NAME`` or any
    other public git URL (Binder's ``gh``, ``gl`` and ``git`` providers).
    """
    parts = urlsplit(repository.strip())
    if parts.scheme != "https" or not parts.netloc:
        raise LaunchConfigError(
            f"launch_repository {repository!r} is not an https URL; "
            "fix: set it to the repository's address, e.g. https://github.com/OWNER/workmail-sandbox"
        )
    if not ref or any(c.isspace() for c in ref):
        raise LaunchConfigError(f"launch_ref {ref!r} is not a branch, tag or commit; fix: set it to e.g. HEAD")
    path = parts.path.strip("/").removesuffix(".git")
    if parts.netloc in ("github.com", "www.github.com"):
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", path):
            raise LaunchConfigError(
                f"launch_repository {repository!r} is not a GitHub repository; fix: https://github.com/OWNER/NAME"
            )
        spec = f"gh/{path}/{quote(ref, safe='')}"
    elif parts.netloc == "gitlab.com" and path:
        spec = f"gl/{quote(path, safe='')}/{quote(ref, safe='')}"
    else:
        spec = f"git/{quote(repository.strip(), safe='')}/{quote(ref, safe='')}"
    return f"{binder.rstrip('/')}/v2/{spec}?urlpath={quote('lab/tree/' + notebook, safe='/')}"


def lab_url(notebook: str, *, lab: str = LAB_URL) -> str:
    """The local JupyterLab (``make lab``, rooted at notebooks/) address of ``notebook``."""
    if not notebook.startswith(NOTEBOOKS):
        raise LaunchConfigError(f"{notebook}: only notebooks under {NOTEBOOKS} open in make lab's JupyterLab")
    return lab.rstrip("/") + "/" + quote(notebook.removeprefix(NOTEBOOKS))


def launch_bar(notebook: str, *, repository: str, ref: str, lab: str = LAB_URL, binder: str = BINDER_URL) -> str:
    """The HTML of the launch bar for ``notebook`` (a path from the repository root)."""
    esc = html.escape
    local = (
        f'<a class="wms-launch-lab reference external" href="{esc(lab_url(notebook, lab=lab))}">'
        "Open in JupyterLab (<code>make lab</code>)</a>"
    )
    if repository:
        remote = (
            f'<a class="wms-launch-binder reference external" '
            f'href="{esc(binder_url(repository, ref, notebook, binder=binder))}">Launch on Binder</a>'
        )
    else:
        remote = (
            '<span class="wms-launch-binder-off">Binder: no public repository is configured '
            "(<code>launch_repository</code> in book/conf.py)</span>"
        )
    return (
        f'<p class="wms-launch" data-notebook="{esc(notebook)}">'
        f"<strong>Run this lesson:</strong> {local} · {remote}</p>"
    )


# --------------------------------------------------------------------------- Sphinx hooks


def _add_toctree(app: Any, docname: str, source: list[str]) -> None:
    if docname == app.config.root_doc:
        source[0] += toctree_markdown(read_toc())


def _add_launch_bar(app: Any, doctree: Any) -> None:
    from docutils import nodes

    docname = app.env.docname
    notebook = docname + ".ipynb"
    if not docname.startswith(NOTEBOOKS) or not (Path(app.srcdir) / notebook).is_file():
        return
    config = app.config
    bar = launch_bar(
        notebook, repository=config.launch_repository, ref=config.launch_ref,
        lab=config.launch_lab_url, binder=config.launch_binder_url,
    )
    # JupyterLab's heading anchors ("On real AWS" -> #On-real-AWS), which the notebooks link to,
    # next to Sphinx's own ("#on-real-aws"), so a link that works in JupyterLab works in the book.
    for heading in doctree.findall(nodes.section):
        lab_id = heading[0].astext().strip().replace(" ", "-")
        if lab_id and lab_id not in heading["ids"]:
            heading["ids"].append(lab_id)
    section = doctree.next_node(nodes.section)
    raw = nodes.raw("", bar, format="html")
    if section is None:
        doctree.insert(0, raw)
    else:
        section.insert(1, raw)  # just under the title


def _check_config(app: Any, config: Any) -> None:
    if config.launch_repository:  # fail at start-up, not after executing every lesson
        binder_url(config.launch_repository, config.launch_ref, NOTEBOOKS + "x.ipynb", binder=config.launch_binder_url)


COMPLETE = ".book-complete"  # written into the output folder after a build that succeeded


def _mark_complete(app: Any, exception: BaseException | None) -> None:
    """After a successful HTML build, record it (and its launch settings) for tests/test_book.py."""
    if exception is None and app.builder.format == "html":
        record = {"launch_repository": app.config.launch_repository, "launch_ref": app.config.launch_ref,
                  "launch_lab_url": app.config.launch_lab_url, "launch_binder_url": app.config.launch_binder_url,
                  "pages": sorted(app.env.found_docs - {app.config.root_doc})}
        (Path(app.outdir) / COMPLETE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def setup(app: Any) -> dict[str, Any]:
    from pygments.lexers.special import TextLexer

    app.add_lexer("mermaid", TextLexer)  # the docs' diagrams: shown as their text (no mermaid.js)
    app.add_config_value("launch_repository", "", "env", [str])
    app.add_config_value("launch_ref", "HEAD", "env", [str])
    app.add_config_value("launch_binder_url", BINDER_URL, "env", [str])
    app.add_config_value("launch_lab_url", LAB_URL, "env", [str])
    app.connect("config-inited", _check_config)
    app.connect("source-read", _add_toctree)
    app.connect("doctree-read", _add_launch_bar)
    app.connect("build-finished", _mark_complete)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
