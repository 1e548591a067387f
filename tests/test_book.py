"""The lessons as a book (``make book``, book/conf.py, docs/book.md).

Fast tests: the table of contents (book/toc.yml) lists every notebook, and the launch
links are built as Binder and ``make lab`` expect.

The browser test serves the built site on loopback and opens it in Debian's Chromium
(tests/test_browser.py's prerequisites): each lesson page shows its executed outputs and
its launch links, the pictures load, and a crawl of every page finds no broken internal
link (external links are checked for form only, never fetched). It uses build/book when
``make book`` left a complete build newer than every source, else builds the book into a
temporary folder (one to three minutes: every lesson is executed). ``WORKMAIL_SANDBOX_BOOK_SITE``
names another complete build to check instead.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from functools import partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import pytest
from test_browser import CHROMIUM, VIEWPORT, _require_browser  # Debian's Chromium, or a skip that says why

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
BUILT = ROOT / "build" / "book"
#: The repository address the test's own build gives Binder (never fetched).
TEST_REPOSITORY = "https://github.com/workmail-sandbox-tests/workmail-sandbox"


def _load_launch() -> ModuleType:
    """book/launch.py (the book's Sphinx extension; book/ is not a package)."""
    spec = importlib.util.spec_from_file_location("book_launch", BOOK / "launch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


launch = _load_launch()


# --------------------------------------------------------------------------- fast


def test_toc_lists_every_notebook_once() -> None:
    pages = launch.toc_pages()
    assert len(pages) == len(set(pages)), f"book/toc.yml lists a page twice: {pages}"
    notebooks = sorted(p.relative_to(ROOT).with_suffix("").as_posix() for p in (ROOT / "notebooks").rglob("*.ipynb")
                       if ".ipynb_checkpoints" not in p.parts)
    assert notebooks, "no notebooks found"
    missing = [n for n in notebooks if n not in pages]
    assert not missing, f"add these notebooks to book/toc.yml (in reading order): {missing}"
    lessons = [p for p in pages if p.startswith("notebooks/") and "/" not in p.removeprefix("notebooks/")]
    assert lessons == sorted(lessons), f"book/toc.yml: the lessons are out of order: {lessons}"


def test_toc_pages_exist() -> None:
    absent = [p for p in launch.toc_pages() if not any((ROOT / (p + s)).is_file() for s in (".md", ".ipynb"))]
    assert not absent, f"book/toc.yml names pages with no .md or .ipynb file: {absent}"


def test_binder_urls_for_github_gitlab_and_plain_git() -> None:
    nb = "notebooks/03_events.ipynb"
    assert launch.binder_url("https://github.com/owner/workmail-sandbox", "HEAD", nb) == (
        "https://mybinder.org/v2/gh/owner/workmail-sandbox/HEAD?urlpath=lab/tree/notebooks/03_events.ipynb"
    )
    assert launch.binder_url("https://github.com/owner/workmail-sandbox.git/", "v1.0", nb).startswith(
        "https://mybinder.org/v2/gh/owner/workmail-sandbox/v1.0?"
    )
    assert launch.binder_url("https://gitlab.com/group/sub/repo", "main", nb).startswith(
        "https://mybinder.org/v2/gl/group%2Fsub%2Frepo/main?"
    )
    assert launch.binder_url("https://git.example.org/repo.git", "main", nb).startswith(
        "https://mybinder.org/v2/git/https%3A%2F%2Fgit.example.org%2Frepo.git/main?"
    )
    # a branch with a slash is one path segment for Binder
    assert "/v2/gh/o/r/feature%2Fbook?" in launch.binder_url("https://github.com/o/r", "feature/book", nb)


@pytest.mark.parametrize(
    ("repository", "ref", "message"),
    [
        ("github.com/owner/repo", "HEAD", "is not an https URL"),
        ("http://github.com/owner/repo", "HEAD", "is not an https URL"),
        ("https://github.com/owner", "HEAD", "is not a GitHub repository"),
        ("https://github.com/owner/repo", "", "is not a branch, tag or commit"),
    ],
)
def test_bad_launch_settings_say_what_to_fix(repository: str, ref: str, message: str) -> None:
    with pytest.raises(launch.LaunchConfigError, match=message) as caught:
        launch.binder_url(repository, ref, "notebooks/00_start_here.ipynb")
    assert "\n" not in str(caught.value) and ("fix" in str(caught.value))


def test_lab_url_is_relative_to_make_labs_root() -> None:
    assert launch.lab_url("notebooks/07_workshop.ipynb") == "http://127.0.0.1:8888/lab/tree/07_workshop.ipynb"
    assert launch.lab_url("notebooks/solutions/07_workshop_solutions.ipynb", lab="http://127.0.0.1:8890/lab/tree") == (
        "http://127.0.0.1:8890/lab/tree/solutions/07_workshop_solutions.ipynb"
    )
    with pytest.raises(launch.LaunchConfigError, match="only notebooks under notebooks/"):
        launch.lab_url("docs/README.md")


def test_launch_bar_without_a_repository_says_so_instead_of_linking() -> None:
    bar = launch.launch_bar("notebooks/03_events.ipynb", repository="", ref="HEAD")
    assert 'href="http://127.0.0.1:8888/lab/tree/03_events.ipynb"' in bar
    assert "mybinder.org" not in bar and "no public repository is configured" in bar
    bar = launch.launch_bar("notebooks/03_events.ipynb", repository="https://github.com/o/r", ref="HEAD")
    assert 'href="https://mybinder.org/v2/gh/o/r/HEAD?urlpath=lab/tree/notebooks/03_events.ipynb"' in bar


# --------------------------------------------------------------------------- the built site


def _newest_source() -> float:
    """The newest modification time among everything the book's pages are made from."""
    files: list[Path] = [ROOT / "README.md"]
    for folder in ("book", "notebooks", "docs", "examples", "workmail_sandbox", "data"):
        files += [p for p in (ROOT / folder).rglob("*")
                  if p.is_file() and not {"__pycache__", "node_modules", ".aws-sam"} & set(p.parts)]
    return max(p.stat().st_mtime for p in files)


def _build(out: Path) -> Path:
    """Build the book into ``out`` as ``make book`` does, with a test repository for the Binder links."""
    site = out / "site"
    env = dict(os.environ, WORKMAIL_SANDBOX_MODE="sandbox", WORKMAIL_SANDBOX_BOOK_REPOSITORY=TEST_REPOSITORY)
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-E", "-T", "-q", "-c", "book",
               "-d", str(out / "doctrees"), ".", str(site)]
    started = time.monotonic()
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    tail = "\n".join((run.stdout + run.stderr).splitlines()[-40:])
    assert run.returncode == 0, f"the book build failed ({' '.join(command)}):\n{tail}"
    print(f"built the book in {time.monotonic() - started:.0f} s")
    return site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require_browser()  # before a build of minutes that nothing could then check
    for name in ("sphinx", "myst_nb", "sphinx_book_theme"):
        if importlib.util.find_spec(name) is None:
            pytest.skip(f"{name} is not installed: pip install -e '.[book]'")
    named = os.environ.get("WORKMAIL_SANDBOX_BOOK_SITE")  # a build to check as it is (its .book-complete)
    if named:
        if not (Path(named) / launch.COMPLETE).is_file():
            pytest.fail(f"WORKMAIL_SANDBOX_BOOK_SITE={named} holds no complete book build; fix: make book")
        return Path(named)
    complete = BUILT / launch.COMPLETE
    if complete.is_file() and complete.stat().st_mtime > _newest_source():
        print(f"using {BUILT} (make book, newer than every source)")
        return BUILT
    return _build(tmp_path_factory.mktemp("book"))


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # the browser left a page mid-download
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The site on a loopback HTTP server; yields its base URL."""
    server = _Server(("127.0.0.1", 0), partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


#: Every link, picture, script and style sheet of the page, and every id (resolved by the browser).
_PAGE = """() => ({
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  resources: [...document.querySelectorAll('img[src], script[src], link[rel=stylesheet][href]')]
      .map(e => e.src || e.href),
  ids: [...document.querySelectorAll('[id]')].map(e => e.id),
  broken_images: [...document.querySelectorAll('img')].filter(i => !i.complete || i.naturalWidth === 0)
      .map(i => i.src),
})"""

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _check_external(url: str, lab_url: str) -> str | None:
    """Why an external link is malformed, or None. Never fetched."""
    parts = urlsplit(url)
    if parts.scheme == "mailto":
        return None if re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", parts.path) else "malformed mailto"
    if url.startswith(lab_url):  # the local JupyterLab of make lab, on loopback by design
        return None
    if parts.scheme != "https" or not re.fullmatch(r"[a-z0-9.-]+\.[a-z]{2,}", parts.hostname or ""):
        return "not an https URL with a host name"
    if any(c.isspace() for c in url) or "<" in url or ">" in url:
        return "contains spaces or angle brackets"
    return None


def _source(lesson: str) -> str:
    """The code of a lesson's code cells, as one text."""
    notebook = json.loads((ROOT / "notebooks" / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    return "\n".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code")


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.update(value for name, value in attrs if name == "id" and value)


@pytest.mark.browser
@pytest.mark.slow
def test_book_in_chromium(site: Path, served: str) -> None:
    from playwright.sync_api import sync_playwright

    from workmail_sandbox import WorkMailEvent
    from workmail_sandbox.rules import RuleSet

    record = json.loads((site / launch.COMPLETE).read_text())
    lessons = [p for p in record["pages"] if p.startswith("notebooks/")]
    page_errors: list[str] = []
    pages: dict[str, dict] = {}  # URL without fragment -> what _PAGE found

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(30_000)
            page.on("pageerror", lambda e: page_errors.append(f"{page.url}: {e.name}: {e.message}"))

            # ---- the front page is the README, with its pictures
            page.goto(served)
            page.wait_for_url(re.compile(r"README\.html$"))
            assert page.locator("h1").first.inner_text().startswith("workmail-sandbox")
            for picture in ("lab-event-builder", "rule-tester"):
                assert page.locator(f"img[src*='{picture}']").count() == 1, f"README picture {picture} missing"
            nav = page.locator(".bd-sidebar-primary nav").first.inner_text()
            assert "Start here" in nav and "Test your function" in nav, f"the sidebar lacks the lessons: {nav[:300]}"

            # ---- every lesson: executed outputs, no error output, launch links
            for lesson in lessons:
                page.goto(urljoin(served, lesson + ".html"))
                outputs = page.locator(".cell_output")
                assert outputs.count() > 0, f"{lesson}: no executed outputs on the page"
                assert page.locator(".cell_output .output.error, .cell_output .traceback").count() == 0, lesson
                bar = page.locator(f".wms-launch[data-notebook='{lesson}.ipynb']")
                assert bar.count() == 1, f"{lesson}: no launch bar"
                lab = bar.locator("a.wms-launch-lab").get_attribute("href")
                assert lab == launch.lab_url(lesson + ".ipynb", lab=record["launch_lab_url"]), (lesson, lab)
                if record["launch_repository"]:
                    binder = bar.locator("a.wms-launch-binder").get_attribute("href")
                    assert binder == launch.binder_url(
                        record["launch_repository"], record["launch_ref"], lesson + ".ipynb",
                        binder=record["launch_binder_url"],
                    ), (lesson, binder)
                else:
                    assert bar.locator(".wms-launch-binder-off").count() == 1, lesson

            # ---- 03: an event, as the kit's JSON view shows it, is a valid Run Lambda event
            page.goto(urljoin(served, "notebooks/03_events.html"))
            events = []
            for text in page.locator(".cell_output pre.wms-json").all_inner_texts():
                try:
                    events.append(WorkMailEvent.from_dict(json.loads(text)))
                except ValueError:
                    continue  # an abbreviated view ("... 9,990 more") or not an event
            assert events, "03: no complete event JSON among the outputs"
            assert events[0].summary_version == "2018-10-10"
            assert page.locator(".wms-event-builder-static").count() == 1  # the widget's static view

            # ---- 04: the rule tester's table, with the winner the rules engine picks for what it shows
            page.goto(urljoin(served, "notebooks/04_email_flow_rules.html"))
            tester = page.locator(".cell_output .wms-rule-tester-static")
            assert tester.count() == 1, "04: the rule tester's static view is missing"
            shown = re.search(r"(inbound|outbound) rules, Sender (\S+), recipient (\S+)", tester.inner_text())
            assert shown, f"04: the rule tester does not say what it tested: {tester.inner_text()[:200]}"
            rule_file = re.search(r'RuleSet\.from_file\("\.\./(data/rules/[^"]+)"\)', _source("04_email_flow_rules"))
            assert rule_file, "04: the notebook no longer loads a rule file from data/rules/"
            answer = RuleSet.from_file(ROOT / rule_file.group(1)).test_configuration(
                shown.group(2), shown.group(3), shown.group(1)
            )
            assert answer.winner is not None
            assert f"Action: {answer.action}" in tester.locator(".wms-rule-result").inner_text()
            header = tester.locator("table.wms-table thead th").all_inner_texts()
            assert header[:1] == ["rule"] and "outcome" in header, header
            rows = [r.locator("td").all_inner_texts() for r in tester.locator("table.wms-table tbody tr").all()]
            winners = [row[0] for row in rows if row[header.index("outcome")] == "winner"]
            assert winners == [answer.winner.name], (winners, answer.winner.name)
            assert len(rows) == 1 + len(answer.losers), rows
            assert page.locator(".cell_output table.dataframe").count() >= 1  # the pandas tables

            # ---- 07: one workshop check report per check cell
            page.goto(urljoin(served, "notebooks/07_workshop.html"))
            checked = sorted({int(n) for n in re.findall(r"workshop\.check\((\d+)", _source("07_workshop"))})
            reports = page.locator(".cell_output .wms-workshop-report").all_inner_texts()
            assert [int(re.match(r"\s*Exercise (\d+)", r).group(1)) for r in reports] == checked, reports
            assert all(re.search(r"\d+ of \d+ checks|passed|failed", r) for r in reports), reports

            # ---- crawl: every page reachable from the front page, every internal link and resource
            todo, seen = [urljoin(served, "README.html")], set()
            while todo:
                url = todo.pop()
                if url in seen:
                    continue
                seen.add(url)
                response = page.goto(url)
                if response is None or response.status != 200:
                    continue  # reported below as a broken link: it is not in pages
                found = page.evaluate(_PAGE)
                pages[url] = found
                for link in found["links"]:
                    target, _ = urldefrag(link)
                    if target.startswith(served) and target.endswith(".html") and target not in seen:
                        todo.append(target)
        finally:
            browser.close()

    problems: list[str] = []
    resource_ok: dict[str, bool] = {}
    for url, found in pages.items():
        problems += [f"{url}: picture did not load: {src}" for src in found["broken_images"]]
        problems += [f"{url}: loads {r} from the internet when viewed (docs/book.md promises it does not)"
                     for r in found["resources"] if not r.startswith((served, "data:"))]
        for link in found["links"] + found["resources"]:
            target, fragment = urldefrag(link)
            if link.startswith("data:"):  # inline pictures
                continue
            if not target.startswith(served):
                reason = _check_external(link, record["launch_lab_url"])
                if reason:
                    problems.append(f"{url}: external link {link}: {reason}")
                continue
            file = site / unquote(urlsplit(target).path).lstrip("/")
            if target in pages:
                ids = set(pages[target]["ids"])
            elif file.is_file():
                if target not in resource_ok:
                    with _OPENER.open(target, timeout=10) as answer:
                        resource_ok[target] = answer.status == 200
                if not resource_ok[target]:
                    problems.append(f"{url}: {link} does not load")
                ids = set()
                if file.suffix == ".html" and fragment:
                    parser = _Ids()
                    parser.feed(file.read_text(encoding="utf-8"))
                    ids = parser.ids
            else:
                problems.append(f"{url}: broken internal link {link}")
                continue
            if fragment and file.suffix == ".html" and unquote(fragment) not in ids:
                problems.append(f"{url}: {link}: no element with id {unquote(fragment)!r}")
    assert not problems, f"{len(problems)} broken links:\n" + "\n".join(sorted(set(problems))[:40])
    assert not page_errors, f"uncaught errors in the pages: {page_errors}"
    unreached = [p for p in ["README", *record["pages"]] if urljoin(served, p + ".html") not in pages]
    assert not unreached, f"these pages are missing from the site or no link leads to them: {unreached}"
    print(f"crawled {len(pages)} pages, {len(resource_ok)} other files")

