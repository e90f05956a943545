"""The app's objects for the request being served: the site, the publishing
service, the SPARQL service and the write tokens (``create_app`` keeps them in
``app.extensions``)."""

from __future__ import annotations

from flask import current_app

from publisher.publishing import PublishingService
from publisher.site import SiteService
from publisher.sparql import SparqlService
from publisher.tokens import TokenTable


def site() -> SiteService:
    found: SiteService = current_app.extensions["publisher"]
    return found


def publishing() -> PublishingService:
    found: PublishingService = current_app.extensions["publisher.publishing"]
    return found


def service() -> SparqlService:
    found: SparqlService = current_app.extensions["publisher.sparql"]
    return found


def tokens() -> TokenTable:
    found: TokenTable = current_app.extensions["publisher.tokens"]
    return found
