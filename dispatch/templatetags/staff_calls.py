"""Filters for the staff's call pages (templates/staff/); static/js/staff_live.js formats the same way."""

from django import template

register = template.Library()


@register.filter
def duration(seconds: int | None) -> str:
    """Whole seconds as "m:ss" or "h:mm:ss" ("4:05", "1:02:03"); "–" for none (the call has not ended)."""
    if seconds is None or seconds == "":
        return "–"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"
