from django.conf import settings

from .livekit.client import missing_settings
from .views import lines_busy_sentence


def voice_setup(request) -> dict:
    """`voice_setup_missing`: the settings still to set before calls work, e.g. ["LIVEKIT_URL"]; [] when ready.
    `agent_join_timeout_ms`: milliseconds the call widget waits for the agent (AGENT_JOIN_TIMEOUT), and
    `lines_busy`: what it says when the agent did not join by then."""
    missing = missing_settings()
    if not settings.OPENAI_API_KEY:
        missing.append("OPENAI_API_KEY")
    return {
        "voice_setup_missing": missing,
        "agent_join_timeout_ms": round(settings.AGENT_JOIN_TIMEOUT * 1000),
        "lines_busy": lines_busy_sentence(),
    }
