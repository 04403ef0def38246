"""The one place maitre talks to LiveKit's server API (`livekit.api`): nothing else in maitre imports it.

- `client`: settings, the errors any call raises, `server_api` (a bounded, closed client);
- `rooms`: room names, participant identities and tokens, a web call's room with the agent dispatched to it;
- `webhooks`: LiveKit's webhooks verified and read;
- `sip`: LiveKit's SIP service (inbound trunks, dispatch rules, transfers);
- `probe`: doctor's probe (does LiveKit answer, does a worker take a job).
"""
