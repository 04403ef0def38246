"""What each turn-taking choice (restaurants.models.TurnTaking) means to the voice session: how long a silence
ends the diner's speech, how long after that the turn counts as finished, and how much of the reply may be
prepared before it does.

The reply is prepared while the turn is being confirmed (LiveKit's preemptive generation: the model as soon
as the transcript is final, and the speech synthesis too), and only played once the turn is confirmed. So a
longer wait costs little latency when the transcript comes early (streaming transcription), while the wait
itself is what protects a diner who pauses mid-sentence: their voice coming back before the turn is
confirmed cancels the prepared reply, and the turn goes on.
"""

from __future__ import annotations

from dataclasses import dataclass

from restaurants.models import TurnTaking


@dataclass(frozen=True)
class TurnProfile:
    """Seconds, counted from the end of the diner's voice."""

    vad_silence: float  # silence after which Silero VAD says the speech ended: TurnTaking.silence
    # LiveKit's endpointing waits, also counted from the end of the voice: the shortest wait only matters
    # when longer than vad_silence; the longest only with a turn detector model, which maitre does not use.
    min_delay: float
    max_delay: float
    preemptive_tts: bool  # synthesise the prepared reply before the turn is confirmed


# With streaming transcription the transcript of a pause's first half is final 0.25 s into the pause, and the
# reply is prepared from it, so what keeps a diner who pauses mid-sentence from being answered early is the
# VAD's silence alone. Silero hears a spoken pause (tests/fakes/voice.spoken) as long as it is: balanced,
# ending speech after 0.6 s of silence (LiveKit's own default is 0.55 s), heard "Are you open [0.3 s] on
# Sunday evening?" as one question in 8 of 8 tries, and [0.5 s] too; quick (0.25 s) answered the first half
# alone in 5 of 8 (bench/turns.py --pauses). The wait costs these questions no latency: the reply's audio
# (transcript 0.25 s + LLM + TTS first byte, about 0.75 s) is ready later than that anyway.
PROFILES = {
    "quick": TurnProfile(TurnTaking.QUICK.silence, min_delay=0.1, max_delay=1.5, preemptive_tts=True),
    "balanced": TurnProfile(TurnTaking.BALANCED.silence, min_delay=0.4, max_delay=2.0, preemptive_tts=True),
    "patient": TurnProfile(TurnTaking.PATIENT.silence, min_delay=0.8, max_delay=3.0, preemptive_tts=True),
}


def turn_profile(turn_taking: str) -> TurnProfile:
    """The profile of a TurnTaking value ("quick", "balanced", "patient"). Raises KeyError for another."""
    return PROFILES[turn_taking]


def turn_handling(p: TurnProfile) -> dict:
    """AgentSession's `turn_handling` for `p`: turns and interruptions by the local VAD (no hidden calls to
    LiveKit's cloud detectors), the profile's endpointing, preemptive generation with or without TTS."""
    return {
        "turn_detection": "vad",
        "endpointing": {"min_delay": p.min_delay, "max_delay": p.max_delay},
        "interruption": {"mode": "vad"},
        "preemptive_generation": {"enabled": True, "preemptive_tts": p.preemptive_tts},
    }
