"""The app's objects for the request being served (``create_app`` keeps them in
``app.extensions``). One convention: each service class is named ``<Job>Service``
and its accessor is the job in lower case: ``site()`` -> SiteService,
``publishing()`` -> PublishingService, ``sparql()`` -> SparqlService; and
``tokens()`` -> the write tokens."""

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


def sparql() -> SparqlService:
    found: SparqlService = current_app.extensions["publisher.sparql"]
    return found


def tokens() -> TokenTable:
    found: TokenTable = current_app.extensions["publisher.tokens"]
    return found
