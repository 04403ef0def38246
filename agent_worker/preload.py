"""Imported once in LiveKit's forkserver (AgentServer's `preload_modules`, see worker.build_server).

Every job process is forked from that server, so it starts with Django set up and maitre's models, tools and
answers already imported (shared copy-on-write) instead of spending ~0.4 s on them before it can take a job.
"""

from .worker import setup_django

setup_django()

from livekit.plugins import openai, silero  # noqa: E402, F401  (the model clients prewarm builds)

from . import agent  # noqa: E402, F401  (the models, the tools and what they answer)
