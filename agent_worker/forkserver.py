"""Start LiveKit's forkserver early: in parallel with the worker's own imports instead of after them.

LiveKit's AgentServer starts job processes from a forkserver (Linux) that first imports the modules it is
told to preload (the plugins, agent_worker.preload with Django and the agent, LiveKit's own warm-up), about
2.7 s, and the worker registers only once a job process forked from it is warm. Left to LiveKit, the
forkserver starts when the worker is already up, after the main process's ~2.5 s of imports. Started here, at
the top of `runagent start|dev`, both import at once (two cores), and the forkserver LiveKit asks for later
is this one: Python keeps one per process and ignores a preload list set once it runs.

Imports nothing heavy: this runs before livekit.agents is imported.
"""

from __future__ import annotations

import multiprocessing
import os

# What LiveKit's AgentServer (livekit-agents 1.8.9, worker.py) would preload: the packages of the registered
# plugins, then `preload_modules`, then its own warm-up, whose freeze step must stay last.
PLUGINS = ["livekit.plugins.openai", "livekit.plugins.silero"]
PRELOAD_MODULES = ["agent_worker.preload"]
LIVEKIT_WARM_UP = ["livekit.agents.ipc._preload", "livekit.agents.ipc._preload_freeze"]

# LiveKit's warm-up also loads its local end-of-turn model (~255 MB, in the forkserver and so in every job
# process's share of memory) unless this is falsy. maitre detects turns with Silero VAD and never uses it.
PRELOAD_LOCAL_INFERENCE_ENV = "LIVEKIT_AGENTS_PRELOAD_LOCAL_INFERENCE"


def skip_unused_models() -> None:
    """Tell LiveKit's warm-up not to load its local turn-detection models (unless the environment says)."""
    os.environ.setdefault(PRELOAD_LOCAL_INFERENCE_ENV, "0")


def start_early() -> None:
    """Start the forkserver now, with the preload list LiveKit would give it. No-op where LiveKit would not
    use a forkserver (not Linux)."""
    if "forkserver" not in multiprocessing.get_all_start_methods() or os.name != "posix":
        return
    skip_unused_models()
    from multiprocessing import forkserver

    forkserver.set_forkserver_preload(PLUGINS + PRELOAD_MODULES + LIVEKIT_WARM_UP)
    forkserver.ensure_running()
