from django.conf import settings

from .livekit_server import missing_settings


def voice_setup(request) -> dict:
    """`voice_setup_missing`: the settings still to set before calls work, e.g. ["LIVEKIT_URL"]; [] when ready.
    `agent_join_timeout_ms`: milliseconds the call widget waits for the agent (AGENT_JOIN_TIMEOUT)."""
    missing = missing_settings()
    if not settings.OPENAI_API_KEY:
        missing.append("OPENAI_API_KEY")
    return {"voice_setup_missing": missing, "agent_join_timeout_ms": round(settings.AGENT_JOIN_TIMEOUT * 1000)}
