"""The site in a real browser: Playwright driving Debian's chromium against
``publisher serve`` (waitress, a real subprocess) over the bundled sample.

Every kind of page is checked with axe-core (the npm package, pinned by
tests/browser/package-lock.json and installed by ``make test``): no serious or
critical violations. The release page, the calendar and the SPARQL query page
load with no console errors, the calendar's filters and the query page's examples,
results and downloads work (with and without JavaScript), pages do not scroll
sideways at 375px, and screenshots are saved.

Run as a script (``python -m tests.test_browser docs/images``) it takes the
screenshots used in docs/web.md.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from publisher.model import Release
from publisher.resources import sample_calendar
from publisher.sparql import EXAMPLES

from .conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
#: Without the background-networking flags Chromium opens connections of its own
#: (updates, sync, field trials) that are refused here, many at a time.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
#: Where the page fetches axe from: routed by Playwright to the file above, so the
#: script comes from the page's own origin and the site's strict CSP
#: (script-src 'self') stays enforced (add_script_tag(path=...) would inline it,
#: which the CSP rightly blocks).
AXE_PATH = "/__axe__/axe.min.js"

PUBLISHED = "labour-market-overview-uk-september-2026"
CANCELLED = "regional-gross-disposable-household-income-uk-1997-to-2024"
POSTPONED = "gdp-monthly-estimate-uk-october-2026"
DELETED = "graduates-in-the-uk-labour-market-2026"
REASON = "Duplicate of another release."
#: the query page's examples by name (publisher.sparql.EXAMPLES)
EXAMPLE = {example.name: example.query for example in EXAMPLES}
EXAMPLE_TITLE = {example.name: example.title for example in EXAMPLES}

#: kind of page -> (path, HTTP status, text the page shows)
PAGES: dict[str, tuple[str, int, str]] = {
    "home": ("/", 200, "Next releases"),
    "calendar": ("/releases", 200, "Release calendar"),
    "published": (f"/releases/{PUBLISHED}", 200, "Published"),
    "cancelled": (f"/releases/{CANCELLED}", 200, "Cancelled"),
    "postponed": (f"/releases/{POSTPONED}", 200, "Changes to the release date"),
    "topic": ("/topics/economy", 200, "Economy"),
    "vocabulary": ("/ns", 200, "Release Publisher vocabulary"),
    "not-found": ("/releases/no-such-release", 404, "Page not found"),
    "gone": (f"/releases/{DELETED}", 410, REASON),
    "api": ("/api", 200, "Publishing API"),
    "sparql": ("/sparql", 200, "SPARQL query"),
    "sparql-results": (
        "/sparql?" + urlencode({"query": EXAMPLE["cancelled"]}),
        200,
        "Download: XML, JSON, CSV, TSV.",
    ),
}


# The server ----------------------------------------------------------------


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _publisher(*args: str, env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "publisher", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, (args, done.stdout, done.stderr)


def start_server(folder: Path) -> Server:
    """The sample imported into an on-disk store in ``folder`` (one release
    deleted, for the 410 page), served by ``publisher serve`` until it answers
    /healthz."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    store = str(folder / "store")
    site = ["--store", store, "--base-url", base]
    _publisher("import", str(sample_calendar()), *site, env=env)
    _publisher("delete", DELETED, "--reason", REASON, *site, env=env)
    log = folder / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "publisher", "serve", *site, "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(base, process, log)
    health = base + "/healthz"
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"publisher serve exited ({process.returncode}):\n" + server.tail()
            )
        try:
            with urllib.request.urlopen(health, timeout=2) as response:  # noqa: S310
                if json.load(response)["status"] == "ok":
                    return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_server(server)
            raise RuntimeError(
                "publisher serve did not answer /healthz:\n" + server.tail()
            )
        time.sleep(0.1)


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def launch(playwright: Any) -> Browser:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"{CHROMIUM} is missing: as root, run `apt-get install -y chromium` "
            "(`make test` does it)"
        )
    browser: Browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS
    )
    return browser


# Fixtures ------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    try:
        started = start_server(tmp_path_factory.mktemp("site"))
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield started
    stop_server(started)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not AXE.is_file():
        pytest.fail(
            f"{AXE} is missing: run `npm ci --prefix tests/browser` "
            "(`make test` does it)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        try:
            found = launch(playwright)
        except RuntimeError as exc:
            pytest.fail(str(exc), pytrace=False)
        yield found
        found.close()


def _context(browser: Browser, server: Server, **options: Any) -> BrowserContext:
    context = browser.new_context(locale="en-GB", **options)
    context.route(
        server.base + AXE_PATH,
        lambda route: route.fulfill(path=AXE, content_type="text/javascript"),
    )
    return context


@pytest.fixture
def context(browser: Browser, server: Server) -> Iterator[BrowserContext]:
    context = _context(browser, server, viewport={"width": 1200, "height": 900})
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def _axe(page: Page, server: Server) -> None:
    page.add_script_tag(url=server.base + AXE_PATH)


def _listed(page: Page) -> list[str]:
    hrefs = page.locator("ol.releases li > a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    return [href.rsplit("/", 1)[1] for href in hrefs]


# Accessibility -------------------------------------------------------------


@pytest.mark.parametrize("kind", list(PAGES))
def test_axe_finds_nothing_serious(page: Page, server: Server, kind: str) -> None:
    path, status, text = PAGES[kind]
    response = page.goto(server.base + path)
    assert response is not None and response.status == status
    assert text in page.locator("main").inner_text()
    _axe(page, server)
    results = page.evaluate("axe.run()")
    assert results["passes"], "axe ran no checks"
    bad = []
    for violation in results["violations"]:
        where = [node["target"] for node in violation["nodes"]]
        line = f"{kind}: {violation['id']} ({violation['impact']}): {where}"
        print(line)
        if violation["impact"] in ("serious", "critical"):
            bad.append(line)
    assert not bad, "\n".join(bad)


#: Focus every control in turn and check its text contrast as it is then drawn.
FOCUS_CONTRAST = """async () => {
  const found = [];
  for (const el of document.querySelectorAll('a[href], button, input, select')) {
    el.focus();
    const r = await axe.run(el, {runOnly: ['color-contrast']});
    for (const v of r.violations) found.push(v.impact + ': ' + el.outerHTML);
  }
  document.activeElement.blur();
  return found;
}"""


@pytest.mark.parametrize("kind", ["calendar", "published", "sparql-results"])
def test_focused_controls_keep_their_contrast(
    page: Page, server: Server, kind: str
) -> None:
    page.goto(server.base + PAGES[kind][0])
    _axe(page, server)
    assert page.evaluate(FOCUS_CONTRAST) == []


def test_landmarks_and_headings(page: Page, server: Server) -> None:
    for kind in ("home", "calendar", "published"):
        page.goto(server.base + PAGES[kind][0])
        for role in ("banner", "main", "contentinfo"):
            assert page.get_by_role(role).count() == 1, (kind, role)
        assert page.get_by_role("navigation", name="Main").count() == 1
        assert page.locator("h1").count() == 1, kind
    page.goto(server.base + "/releases")
    for label in ("Search", "Topic", "Designation", "From", "To"):
        assert page.get_by_label(label, exact=True).count() == 1, label
    for kind in ("sparql", "sparql-results"):
        page.goto(server.base + PAGES[kind][0])
        assert page.get_by_role("main").count() == 1, kind
        assert page.locator("h1").count() == 1, kind
        assert page.get_by_label("Query", exact=True).evaluate("e => e.tagName") == (
            "TEXTAREA"
        )
        assert page.get_by_role("button", name="Run query").count() == 1
        examples = page.get_by_role("region", name="Examples")
        assert examples.get_by_role("link").count() == len(EXAMPLES)
    # the results and their table are regions with names of their own
    assert page.get_by_role("region", name="Results", exact=True).count() == 1
    assert page.get_by_role("region", name="Results table", exact=True).count() == 1


# Rendering -----------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    ["calendar", "published", "cancelled", "postponed", "sparql", "sparql-results"],
)
def test_renders_without_console_errors(page: Page, server: Server, kind: str) -> None:
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console: {msg.text}") if msg.type == "error" else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.on("requestfailed", lambda req: problems.append(f"failed: {req.url}"))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None,
    )
    response = page.goto(server.base + PAGES[kind][0], wait_until="networkidle")
    assert response is not None and response.ok
    assert page.locator("h1").is_visible()
    stylesheet = page.evaluate(
        "getComputedStyle(document.querySelector('.site-header')).backgroundColor"
    )
    assert stylesheet == "rgb(11, 12, 12)"  # site.css was loaded
    assert problems == []


def test_release_page_shows_status_and_data(page: Page, server: Server) -> None:
    page.goto(server.base + PAGES["cancelled"][0])
    assert page.locator(".banner").get_attribute("role") == "status"
    assert page.locator(".banner-status").inner_text().startswith("Cancelled")
    page.goto(server.base + PAGES["published"][0])
    assert page.locator(".share a").count() == 5
    formats = page.locator(".formats a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert {href.rsplit(".", 1)[1] for href in formats} == {
        "ttl",
        "jsonld",
        "rdf",
        "nt",
    }
    for href in formats:  # each data link answers
        assert page.request.get(href).ok, href


def test_screenshots(page: Page, server: Server, tmp_path: Path) -> None:
    from PIL import Image

    for name, kind in (
        ("release-page", "published"),
        ("calendar", "calendar"),
        ("sparql", "sparql-results"),
    ):
        page.goto(server.base + PAGES[kind][0])
        target = tmp_path / f"{name}.png"
        page.screenshot(path=str(target), full_page=True)
        assert target.is_file() and target.stat().st_size > 0
        with Image.open(target) as image:
            assert image.format == "PNG"
            assert image.width == 1200 and image.height >= 900


@pytest.mark.parametrize("kind", list(PAGES))
def test_no_sideways_scroll_at_375px(
    browser: Browser, server: Server, kind: str
) -> None:
    context = _context(browser, server, viewport={"width": 375, "height": 800})
    try:
        page = context.new_page()
        page.goto(server.base + PAGES[kind][0])
        scroll, client = page.evaluate(
            "[document.documentElement.scrollWidth,"
            " document.documentElement.clientWidth]"
        )
        assert scroll <= client, f"{kind}: {scroll}px wide in a {client}px window"
    finally:
        context.close()


# The calendar's filters ----------------------------------------------------


def _words(release: Release) -> str:
    return " ".join(
        [release.title or "", release.summary or "", *release.keywords]
    ).lower()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_calendar_filters(
    browser: Browser,
    server: Server,
    sample_releases: list[Release],
    javascript: bool,
) -> None:
    live = [r for r in sample_releases if r.slug != DELETED]
    context = _context(browser, server, java_script_enabled=javascript)
    try:
        page = context.new_page()
        page.goto(server.base + "/releases?view=all")
        everything = _listed(page)
        assert page.locator(".summary").inner_text().startswith(f"{len(live)} all ")

        # search
        page.get_by_label("Search", exact=True).fill("inflation")
        page.get_by_role("button", name="Filter").click()
        page.wait_for_url(re.compile(r".*q=inflation.*"))
        query = parse_qs(urlparse(page.url).query)
        assert query["q"] == ["inflation"] and query["view"] == ["all"]
        found = _listed(page)
        expected = {r.slug for r in live if re.search(r"\binflation", _words(r))}
        assert found and set(found) == expected
        assert found != everything
        assert page.get_by_label("Search", exact=True).input_value() == "inflation"

        # a topic, instead of the search
        page.get_by_label("Search", exact=True).fill("")
        page.get_by_label("Topic", exact=True).select_option("economy")
        page.get_by_role("button", name="Filter").click()
        page.wait_for_url(re.compile(r".*topic=economy.*"))
        query = parse_qs(urlparse(page.url).query)
        assert query["topic"] == ["economy"] and "q" not in query
        found = _listed(page)
        expected = {r.slug for r in live if any(t.slug == "economy" for t in r.topics)}
        assert found and set(found) == expected
        assert page.get_by_label("Topic", exact=True).input_value() == "economy"

        # the views keep the filter; the pager pages
        page.get_by_role("navigation", name="Calendar views").get_by_role(
            "link", name=re.compile("^Cancelled")
        ).click()
        query = parse_qs(urlparse(page.url).query)
        assert query["view"] == ["cancelled"] and query["topic"] == ["economy"]
        assert set(_listed(page)) == {
            r.slug for r in live if r.slug in expected and r.status.value == "cancelled"
        }
        page.goto(server.base + "/releases?view=all")
        page.get_by_role("link", name="Next page").click()
        assert parse_qs(urlparse(page.url).query)["page"] == ["2"]
        assert not set(_listed(page)) & set(everything)
    finally:
        context.close()


def test_content_without_javascript(browser: Browser, server: Server) -> None:
    context = _context(browser, server, java_script_enabled=False)
    try:
        page = context.new_page()
        for kind in ("home", "calendar", "published", "cancelled", "topic"):
            path, status, text = PAGES[kind]
            response = page.goto(server.base + path)
            assert response is not None and response.status == status
            assert page.locator("h1").is_visible()
            assert text in page.locator("main").inner_text()
        page.goto(server.base + "/releases")
        assert page.locator("ol.releases li").count() > 0
    finally:
        context.close()


# The SPARQL query page -----------------------------------------------------

#: what each download link on the query page is named and the type it answers
DOWNLOADS = {
    "XML": "application/sparql-results+xml",
    "JSON": "application/sparql-results+json",
    "CSV": "text/csv",
    "TSV": "text/tab-separated-values",
}
GRAPH_DOWNLOADS = {
    "Turtle": "text/turtle",
    "RDF/XML": "application/rdf+xml",
    "N-Triples": "application/n-triples",
    "JSON-LD": "application/ld+json",
    "N-Quads": "application/n-quads",
}
SPARQL_RESULTS = "http://www.w3.org/2005/sparql-results#"


def _fetch(server: Server, query: str, accept: str) -> bytes:
    """The endpoint's own answer to ``query``, outside the browser."""
    request = urllib.request.Request(  # noqa: S310 (http, the test's server)
        server.base + "/sparql?" + urlencode({"query": query}),
        headers={"Accept": accept},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        body: bytes = response.read()
        return body


def _expected(server: Server, query: str) -> tuple[list[str], list[list[str]]]:
    """The variables and rows of a SELECT as the endpoint answers it in JSON,
    each cell as the query page shows it."""
    answer = json.loads(_fetch(server, query, "application/sparql-results+json"))
    names = answer["head"]["vars"]
    rows = []
    for binding in answer["results"]["bindings"]:
        row = []
        for name in names:
            term = binding.get(name)
            if term is None:
                row.append("")
            elif term["type"] == "uri" and not term["value"].startswith("http"):
                row.append(f"<{term['value']}>")
            elif term["type"] == "bnode":
                row.append(f"_:{term['value']}")
            else:
                row.append(term["value"])
        rows.append(row)
    return names, rows


def _shown(page: Page) -> tuple[list[str], list[list[str]]]:
    """The results table's column headings and rows, as text."""
    names = page.locator("table.results thead th").all_text_contents()
    rows = page.locator("table.results tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells, c => c.textContent))"
    )
    return names, rows


def _downloads(page: Page) -> dict[str, str]:
    links = page.locator("#results p", has_text="Download:").get_by_role("link")
    return dict(
        zip(
            links.all_text_contents(),
            links.evaluate_all("links => links.map(a => a.href)"),
            strict=True,
        )
    )


def _query_in(url: str) -> str:
    """The query in a URL; a form sends the textarea's line breaks as CRLF."""
    return parse_qs(urlparse(url).query)["query"][0].replace("\r\n", "\n")


def _watch(page: Page) -> list[str]:
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console: {msg.text}") if msg.type == "error" else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    return problems


def test_sparql_examples_with_javascript(page: Page, server: Server) -> None:
    problems = _watch(page)
    page.goto(server.base + "/sparql")
    editor = page.get_by_label("Query", exact=True)
    assert editor.input_value() == EXAMPLES[0].query
    assert page.locator("#results").count() == 0
    assert page.locator("#hint").inner_text() == "Ctrl+Enter runs the query."

    # an example fills the editor in place, and focuses it
    start = page.url
    page.get_by_role("link", name=EXAMPLE_TITLE["cancelled"], exact=True).click()
    assert editor.input_value() == EXAMPLE["cancelled"]
    assert page.url == start
    assert page.locator("#results").count() == 0
    assert page.evaluate("document.activeElement.id") == "query"
    assert EXAMPLE_TITLE["cancelled"] in page.locator("#hint").inner_text()

    # Ctrl+Enter runs it
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    assert _query_in(page.url) == EXAMPLE["cancelled"]
    names, rows = _expected(server, EXAMPLE["cancelled"])
    assert names == ["slug", "title", "notice"] and rows
    assert _shown(page) == (names, rows)
    assert editor.input_value() == EXAMPLE["cancelled"]
    assert page.locator(".count").inner_text() == f"{len(rows)} rows."

    # another example, then the button runs it
    results = page.url
    page.get_by_role("link", name=EXAMPLE_TITLE["by-topic"], exact=True).click()
    assert editor.input_value() == EXAMPLE["by-topic"]
    assert page.url == results
    assert _shown(page) == (names, rows)  # the page has not changed
    with page.expect_navigation():
        page.get_by_role("button", name="Run query").click()
    assert _query_in(page.url) == EXAMPLE["by-topic"]
    names, rows = _expected(server, EXAMPLE["by-topic"])
    assert names == ["topic", "releases"] and rows
    assert _shown(page) == (names, rows)
    assert problems == []


def test_sparql_results_without_javascript(browser: Browser, server: Server) -> None:
    import csv
    import io

    context = _context(browser, server, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(server.base + "/sparql")
        link = page.get_by_role("link", name=EXAMPLE_TITLE["cancelled"], exact=True)
        assert _query_in(link.get_attribute("href") or "") == EXAMPLE["cancelled"]
        link.click()
        page.wait_for_url(re.compile(r".*[?&]query="))
        assert _query_in(page.url) == EXAMPLE["cancelled"]
        names, rows = _expected(server, EXAMPLE["cancelled"])
        assert rows and _shown(page) == (names, rows)
        editor = page.get_by_label("Query", exact=True)
        assert editor.input_value() == EXAMPLE["cancelled"]
        assert page.locator("#hint").inner_text().startswith("Results appear")

        # each download link answers in the format it names
        links = _downloads(page)
        assert list(links) == list(DOWNLOADS)
        for label, href in links.items():
            assert parse_qs(urlparse(href).query)["query"] == [EXAMPLE["cancelled"]]
            response = page.request.get(href)
            assert response.ok, (label, response.status)
            mimetype = response.headers["content-type"].split(";")[0]
            assert mimetype == DOWNLOADS[label], label
            body = response.body()
            if label == "JSON":
                found = json.loads(body)
                assert found["head"]["vars"] == names
                count = len(found["results"]["bindings"])
            elif label == "XML":
                root = ET.fromstring(body)
                count = len(root.findall(f".//{{{SPARQL_RESULTS}}}result"))
            else:
                delimiter = "," if label == "CSV" else "\t"
                table = list(
                    csv.reader(io.StringIO(body.decode()), delimiter=delimiter)
                )
                head = [n.lstrip("?") for n in table[0]]  # TSV names are ?slug
                assert head == names, label
                count = len(table) - 1
            assert count == len(rows), label

        # a query typed into the editor and run by the button
        editor.fill(
            "SELECT ?slug WHERE { ?r <https://w3id.org/release-publisher/ns#slug> "
            "?slug } ORDER BY ?slug LIMIT 3"
        )
        page.get_by_role("button", name="Run query").click()
        page.wait_for_url(re.compile(r".*LIMIT.*"))
        names, rows = _expected(server, _query_in(page.url))
        assert names == ["slug"] and len(rows) == 3
        assert _shown(page) == (names, rows)
    finally:
        context.close()


def test_sparql_construct_shows_triples(browser: Browser, server: Server) -> None:
    import pyoxigraph as ox
    from rdflib import Graph
    from rdflib.compare import isomorphic

    context = _context(browser, server, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(server.base + "/sparql")
        page.get_by_role("link", name=EXAMPLE_TITLE["one-release"], exact=True).click()
        page.wait_for_url(re.compile(r".*[?&]query="))
        names, rows = _shown(page)
        assert names == ["subject", "predicate", "object"]
        nt = _fetch(server, EXAMPLE["one-release"], "application/n-triples")
        triples = [
            [t.subject.value, t.predicate.value, t.object.value]
            for t in ox.parse(nt, format=ox.RdfFormat.N_TRIPLES)
        ]
        assert rows and rows == triples
        release = f"{server.base}/releases/{PUBLISHED}#release"
        slug = "https://w3id.org/release-publisher/ns#slug"
        assert [release, slug, PUBLISHED] in rows
        assert page.locator(".count").inner_text() == f"{len(rows)} rows."

        expected = Graph().parse(data=nt, format="nt")
        assert len(expected) == len(rows)
        links = _downloads(page)
        assert list(links) == list(GRAPH_DOWNLOADS)
        for label, href in links.items():
            response = page.request.get(href)
            assert response.ok, (label, response.status)
            mimetype = response.headers["content-type"].split(";")[0]
            assert mimetype == GRAPH_DOWNLOADS[label], label
            # the triples are in the default graph: N-Quads lines are N-Triples
            fmt = "nt" if label == "N-Quads" else mimetype
            graph = Graph().parse(data=response.text(), format=fmt)
            assert isomorphic(graph, expected), label
    finally:
        context.close()


@pytest.mark.parametrize(
    ("query", "answer"),
    [
        ("ASK { ?r <https://w3id.org/release-publisher/ns#slug> ?s }", True),
        ("ASK { ?r <https://w3id.org/release-publisher/ns#slug> 'no-such' }", False),
    ],
    ids=["yes", "no"],
)
def test_sparql_ask_says_yes_or_no(
    browser: Browser, server: Server, query: str, answer: bool
) -> None:
    assert json.loads(_fetch(server, query, "application/json"))["boolean"] is answer
    context = _context(browser, server, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(server.base + "/sparql")
        page.get_by_label("Query", exact=True).fill(query)
        page.get_by_role("button", name="Run query").click()
        page.wait_for_url(re.compile(r".*[?&]query=ASK"))
        word = "yes" if answer else "no"
        assert page.locator(".answer").inner_text().startswith(f"The answer is {word} ")
        assert page.locator("table.results").count() == 0
        assert list(_downloads(page)) == list(DOWNLOADS)
    finally:
        context.close()


def test_sparql_syntax_error(browser: Browser, server: Server) -> None:
    """A query the endpoint cannot read: the query page again, status 400, the
    query still in the editor and the parser's message in an alert."""
    context = _context(browser, server, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(server.base + "/sparql")
        editor = page.get_by_label("Query", exact=True)
        editor.fill("SELEC ?s WHERE { ?s ?p ?o }")
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="Run query").click()
        response = navigation.value
        assert response is not None and response.status == 400
        alert = page.get_by_role("alert")
        assert "syntax error" in alert.inner_text().lower()
        assert editor.input_value() == "SELEC ?s WHERE { ?s ?p ?o }"
        assert page.get_by_role("link", name="Cancelled releases and their notices")
    finally:
        context.close()


def test_sparql_results_cut_at_the_row_cap(page: Page, server: Server) -> None:
    """More rows than the endpoint's cap (10,000 by default): the page says so."""
    digits = "VALUES ?{} {{ 0 1 2 3 4 5 6 7 8 9 }}"
    query = (
        "SELECT ?a ?b ?c ?d ?e WHERE { "
        + " ".join(digits.format(name) for name in "abcde")
        + " }"
    )
    page.goto(server.base + "/sparql?" + urlencode({"query": query}))
    notice = page.locator("#results .banner[role=status]")
    assert notice.inner_text().startswith("Cut at 10,000 rows.")
    assert page.locator("table.results tbody tr").count() == 10_000


# Screenshots for docs/web.md -----------------------------------------------


def docs_screenshots(folder: Path) -> list[Path]:
    """docs/images/release-page.png, calendar.png and sparql.png (the query page
    with the cancelled releases example's results) from the running sample."""
    import tempfile

    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="publisher-shots-"))
    server = start_server(work)
    written = []
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page(
                viewport={"width": 1200, "height": 900}, locale="en-GB"
            )
            for name, path in (
                ("release-page", PAGES["postponed"][0]),
                ("calendar", "/releases"),
                ("sparql", PAGES["sparql-results"][0]),
            ):
                page.goto(server.base + path)
                target = folder / f"{name}.png"
                page.screenshot(path=str(target), full_page=True)
                with Image.open(target) as image:  # a palette keeps it small
                    small = image.convert("RGB").quantize()
                small.save(target, optimize=True)
                written.append(target)
            browser.close()
    finally:
        stop_server(server)
        shutil.rmtree(work, ignore_errors=True)
    return written


if __name__ == "__main__":
    for shot in docs_screenshots(Path(sys.argv[1] if len(sys.argv) > 1 else ".")):
        print(f"wrote {shot} ({shot.stat().st_size // 1024} KB)")
