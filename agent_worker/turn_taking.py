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


@dataclass(frozen=True)
class TurnProfile:
    """Seconds, counted from the end of the diner's voice."""

    vad_silence: float  # silence after which Silero VAD says the speech ended
    min_delay: float  # the shortest wait before the turn counts as finished: TurnTaking.endpointing_delay
    max_delay: float  # the longest
    preemptive_tts: bool  # synthesise the prepared reply before the turn is confirmed


# With streaming transcription the transcript of a pause's first half is final 0.25 s into the pause. A diner
# pausing 0.3 s mid-sentence is heard silent for longer when their voice comes back softly (Silero may notice
# it 0.3-0.4 s late), so with the VAD ending speech after 0.3 s of silence the agent started answering
# the first half in 2 of 6 tries (bench/turns.py --pauses). Balanced waits 0.6 s of silence (LiveKit's own
# default is 0.55 s), which costs these questions no latency: the reply's audio (transcript 0.25 s + LLM
# + TTS first byte, about 0.75 s) is ready later than that anyway; it is prepared meanwhile.
PROFILES = {
    "quick": TurnProfile(vad_silence=0.25, min_delay=0.1, max_delay=1.5, preemptive_tts=True),
    "balanced": TurnProfile(vad_silence=0.6, min_delay=0.4, max_delay=2.0, preemptive_tts=True),
    "patient": TurnProfile(vad_silence=0.8, min_delay=0.8, max_delay=3.0, preemptive_tts=True),
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
