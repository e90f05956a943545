"""Listings, topic pages, feeds and sitemaps, in-process, over a kept store.

Run from the repository root, over a store imported before (``publisher import``
of bench/convert.py's generated releases, with its listing index beside it)::

    .venv/bin/python bench/listings.py --store DIR [--index FILE] [--runs 50]

Each URL is asked ``--runs`` times through Flask's test client (no HTTP, no
server: the app's own time), after one request not timed (a first request may
sync the index or find a deep page's marks); p50 and p99 in ms are printed. Run
it with the code before and after a change, alternating, on the same store, to
compare. Figures are printed, never asserted.

First views: a URL with ``{n}`` asks for a different page at random on every run
(1 to ``--pages``), so that nothing it shows was made before; ``--fresh`` forgets
every kept rendering and feed body before each request, so that every URL is a
first view (the work of a list, not the lookup of one made before).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from dataclasses import replace

URLS = [
    "/",
    "/releases",
    "/releases?view=upcoming&page=3",
    "/releases?view=all&page=2500",
    "/releases?view=published&page=1000",
    "/releases?view=cancelled&page=100",
    "/releases?view=all&topic=census",
    "/releases?view=published&topic=economy&designation=official-statistics",
    "/releases?view=all&from=2024-01-01&to=2024-03-31",
    "/releases?view=all&q=labour",
    "/topics/census",
    "/api/releases?page=5",
    "/api/releases?page=4000",
    "/feeds/releases.atom",
    "/feeds/upcoming.ics",
    "/sitemap.xml",
    "/sitemaps/1.xml",
    "/sitemaps/10.xml",
    "/catalog?page=90",
    "/releases?view=all&page={n}",
    "/api/releases?page={n}",
    "/catalog?page={n}",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", required=True)
    parser.add_argument("--index", default="")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--only", default="", help="comma-separated URL prefixes")
    parser.add_argument("--pages", type=int, default=4000, help="{n}: 1 to this")
    parser.add_argument("--fresh", action="store_true", help="nothing kept")
    args = parser.parse_args()

    from publisher.config import Settings
    from publisher.web import create_app, feeds

    settings = replace(Settings(), store=args.store, index=args.index)
    app = create_app(settings)
    client = app.test_client()
    site = app.extensions["publisher"]
    rng = random.Random(12)
    only = [p for p in args.only.split(",") if p]
    for url in URLS:
        if only and not any(url.startswith(p) for p in only):
            continue
        last = args.pages if "/catalog" not in url else max(1, args.pages // 12)
        status = client.get(url.replace("{n}", "1")).status_code  # not timed
        times = []
        for _ in range(args.runs):
            asked = url.replace("{n}", str(rng.randint(1, last)))
            if args.fresh:
                site.renderings.clear()
                feeds._MADE.clear()
            start = time.perf_counter()
            client.get(asked).close()
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
        print(
            f"{url:72s} {status} p50 {statistics.median(times):8.1f} ms"
            f"  p99 {p99:8.1f} ms",
            flush=True,
        )


if __name__ == "__main__":
    main()
