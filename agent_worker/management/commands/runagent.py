"""`manage.py runagent`: the LiveKit Agents worker for every restaurant, registered as LIVEKIT_AGENT_NAME."""

from __future__ import annotations

import logging
import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dispatch import job_metadata
from dispatch.livekit import client


class Command(BaseCommand):
    help = (
        "Run the voice agent worker. `runagent start` (production) or `runagent dev` registers with LiveKit "
        "under LIVEKIT_AGENT_NAME; `runagent console --restaurant <id or slug> [--text]` talks to one "
        "restaurant in this terminal. Other arguments go to LiveKit's CLI (`runagent start --help`)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("mode", choices=["start", "dev", "console", "connect", "download-files"])
        parser.add_argument("--restaurant", help="console only: the restaurant's id or slug")

    def run_from_argv(self, argv: list[str]) -> None:
        # Arguments after the mode that are not ours go, in order, to LiveKit's CLI (--log-level debug, --text).
        ours, self.livekit_args = [], []
        rest = iter(argv[3:])
        for arg in rest:
            if arg == "--restaurant":
                ours += [arg, next(rest, "")]
            elif arg.startswith("--restaurant="):
                ours.append(arg)
            else:
                self.livekit_args.append(arg)
        super().run_from_argv(argv[:3] + ours)

    def handle(self, *args, mode: str, restaurant: str | None, **options) -> None:
        if mode in ("start", "dev"):
            # Before the imports below: the job processes' forkserver imports at the same time (forkserver.py).
            from agent_worker import forkserver

            forkserver.start_early()
        from agent_worker.worker import CONSOLE_METADATA_ENV, build_server

        override = os.environ.get("LIVEKIT_AGENT_NAME_OVERRIDE")
        if override and override != settings.LIVEKIT_AGENT_NAME:
            raise CommandError(
                f"LIVEKIT_AGENT_NAME_OVERRIDE={override!r} would register the worker under another name than the "
                f"dispatch view uses ({settings.LIVEKIT_AGENT_NAME!r}): unset it and use LIVEKIT_AGENT_NAME."
            )
        if restaurant and mode != "console":
            raise CommandError("--restaurant is for console mode: in start/dev the dispatch chooses the restaurant.")
        # Everything missing at once. Only the modes that register with LiveKit need its settings.
        missing = [] if settings.OPENAI_API_KEY else ["OPENAI_API_KEY"]
        if mode in ("start", "dev", "connect"):
            missing += client.missing_settings()
        if missing:
            raise CommandError(
                f"Not set: {', '.join(missing)}. The worker needs a model key (OPENAI_API_KEY; OPENAI_BASE_URL "
                "for another OpenAI-compatible server) and LiveKit's URL and API key pair (livekit-server --dev: "
                "ws://127.0.0.1:7880, devkey, secret). Set them in the environment or .env and start again."
            )
        if mode == "console":
            os.environ[CONSOLE_METADATA_ENV] = job_metadata.web_call(self._console_restaurant(restaurant))

        from livekit.agents import cli

        if mode in ("console", "download-files"):  # these run the plugins in this process
            from livekit.plugins import openai, silero  # noqa: F401

        server = build_server(agent_name=settings.LIVEKIT_AGENT_NAME)
        # LiveKit's CLI logs through the root logger, as JSON under `start`, with the job id on every record
        # from a job process: maitre's lines go the same way instead of through settings.LOGGING's handler.
        logging.getLogger("maitre").handlers.clear()
        # LiveKit's CLI parses sys.argv: hand it its own command line.
        sys.argv = ["runagent", mode, *getattr(self, "livekit_args", [])]
        cli.run_app(server)

    def _console_restaurant(self, value: str | None) -> int:
        from restaurants.models import Restaurant

        if not value:
            raise CommandError("console needs --restaurant <id or slug>: LiveKit's console sends no job metadata.")
        lookup = {"pk": int(value)} if value.isdigit() else {"slug": value}
        try:
            return Restaurant.objects.active().get(**lookup).pk
        except Restaurant.DoesNotExist:
            raise CommandError(f"No active restaurant with id or slug {value!r}.") from None
