"""Template filters: dates and times as the site's people read them."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from publisher.web.context import site


def local_time(value: datetime | str | None, with_time: bool = True) -> str:
    """A date (and time) in the site's zone: Tuesday 18 May 2027, 7:00am."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    else:
        parsed = value
    moment = parsed.astimezone(site().settings.zone)
    day = f"{moment:%A} {moment.day} {moment:%B %Y}"
    if not with_time:
        return day
    hour = moment.hour % 12 or 12
    return f"{day}, {hour}:{moment:%M}{'am' if moment.hour < 12 else 'pm'}"


def register_filters(app: Flask) -> None:
    app.add_template_filter(local_time, "local")
