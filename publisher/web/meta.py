"""Share metadata of a page (title, description, canonical URL, Open Graph and
Twitter cards, the schema.org block) and a release's share links."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from markupsafe import Markup

from publisher.jsonld import dumps_for_html
from publisher.site import ReleasePage
from publisher.web.context import site


def cut(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word, with an ellipsis if cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.-\u2013")
    return head + "…"


def absolute(path: str) -> str:
    return site().settings.base_url + path


def site_jsonld(title: str, path: str) -> Markup:
    """The schema.org block of a page that is not a release: who publishes the site,
    the site, this page and where it sits (linked by @id, as on release pages)."""
    settings = site().settings
    iris = site().iris
    page = absolute(path)
    crumbs: list[dict[str, Any]] = [
        {"@type": "ListItem", "position": 1, "name": "Home", "item": {"@id": iris.home}}
    ]
    if path != "/":
        crumbs.append(
            {"@type": "ListItem", "position": 2, "name": title, "item": {"@id": page}}
        )
    block = {
        "@context": "https://schema.org",
        "@graph": [
            {
                "@id": iris.organization,
                "@type": "Organization",
                "name": settings.organization_name,
                "url": settings.publisher_url,
            },
            {
                "@id": iris.website,
                "@type": "WebSite",
                "name": settings.site_name,
                "url": iris.home,
                "publisher": {"@id": iris.organization},
                "inLanguage": settings.language,
            },
            {
                "@id": page,
                "@type": "WebPage",
                "name": title,
                "url": page,
                "isPartOf": iris.website,
                "breadcrumb": {"@id": page + "#breadcrumb"},
            },
            {
                "@id": page + "#breadcrumb",
                "@type": "BreadcrumbList",
                "itemListElement": crumbs,
            },
        ],
    }
    return Markup(dumps_for_html(block))  # noqa: S704 - escaped for HTML


def meta_for(
    *,
    title: str,
    description: str,
    path: str,
    og_type: str = "website",
    image: str | None = None,
    image_alt: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The share metadata of the page at ``path`` (templates/_meta.html)."""
    settings = site().settings
    image = image or absolute("/card.png")
    jsonld = None if extra and "page" in extra else site_jsonld(title, path)
    return {
        "jsonld": jsonld,
        "title": title,
        "description": description,
        "canonical": absolute(path),
        "og_type": og_type,
        "image": image,
        "image_alt": image_alt or f"{settings.site_name}: {title}",
        "twitter_title": cut(title, 70),
        "twitter_description": cut(description, 200),
        **(extra or {}),
    }


def share_links(page: ReleasePage) -> list[tuple[str, str]]:
    """Where a release's page may be shared, with its tracked URL."""
    settings = site().settings

    def tracked(source: str, medium: str = "social") -> str:
        return (
            absolute(f"/releases/{page.slug}")
            + "?"
            + urlencode(
                {
                    "utm_source": source,
                    "utm_medium": medium,
                    "utm_campaign": "release-share",
                }
            )
        )

    text = page.title
    return [
        (
            "X",
            "https://twitter.com/intent/tweet?"
            + urlencode({"text": text, "url": tracked("x")}),
        ),
        (
            "Facebook",
            "https://www.facebook.com/sharer/sharer.php?"
            + urlencode({"u": tracked("facebook")}),
        ),
        (
            "LinkedIn",
            "https://www.linkedin.com/sharing/share-offsite/?"
            + urlencode({"url": tracked("linkedin")}),
        ),
        (
            "Mastodon",
            settings.mastodon_share.rstrip("/")
            + "/share?"
            + urlencode({"text": f"{text} {tracked('mastodon')}"}),
        ),
        (
            "Email",
            "mailto:?subject="
            + quote(text)
            + "&body="
            + quote(tracked("email", "email")),
        ),
    ]
