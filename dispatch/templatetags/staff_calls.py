"""Filters for the staff's call pages (templates/staff/); static/js/staff_live.js formats the same way.

Here rather than beside the pages in dispatch/staff/: Django loads tag libraries only from the `templatetags`
package of an installed app, and dispatch.staff is a package of the dispatch app, not an app of its own.
"""

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
