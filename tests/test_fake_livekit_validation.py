"""The LiveKit fake refuses what LiveKit refuses (issue 17): every request check of tests/fakes/twirp.py, sent
with the real `livekit.api` client (`api.LiveKitAPI(fake.ws_url, key, secret)`, as dispatch/livekit/ does
does; `token=` for a token with other grants) or as raw HTTP where the client cannot send it, asserting the
status, Twirp code and message livekit-server answers with. Each method also accepts a valid request, so the
fake is not merely refusing everything.

Rules ported, and where they live upstream (LiveKit's own words in quotes):

Transport (livekit/livekit pkg/service/auth.go APIKeyAuthMiddleware.ServeHTTP; twitchtv/twirp's generated
ServeHTTP/serveX and errors.go):
- Authorization not "Bearer ...": 401 text/plain "invalid authorization header. Must start with Bearer ";
  a token that does not parse: "invalid authorization token"; an unknown key: "invalid API key: <key>"; a
  bad signature or an expired token: "invalid token: <token>, error: ...";
- unknown method: 404 bad_route "no handler for path \"/twirp/...\""; a Content-Type other than JSON or
  protobuf: 404 bad_route "unexpected Content-Type: \"...\""; an undecodable body: 400 malformed "the
  protobuf request could not be decoded" / "the json request could not be decoded".

Grants (pkg/service/auth.go Ensure*Permission, refused by twirpAuthError as 401 unauthenticated "permissions
denied"): CreateRoom and DeleteRoom roomCreate; ListRooms roomList; ListParticipants and CreateDispatch
roomAdmin for that very room; every SIP trunk and rule method SIP admin; TransferSIPParticipant SIP call plus
roomAdmin for the call's room.

SIP service (pkg/service/sip.go, in its order: grant, Redis, Validate, store):
- no Redis: 500 internal "sip not connected (redis required)" (ErrSIPNotConnected);
- CreateSIPInboundTrunk (livekit/sip.go CreateSIPInboundTrunkRequest.Validate, SIPInboundTrunkInfo.Validate,
  validateHeaders/validateAttributesToHeaders/validateHeaderToAttributes; sip_validation.go
  ValidateHeaderName/ValidateHeaderValue): 400 invalid_argument "missing trunk", "trunk id must not be set",
  "for security, one of the fields must be set: ...", "invalid header name: ...", "invalid header value for
  ...: ..."; conflicts (sip/sip.go ValidateTrunksIter, validateTrunkInbound): 400 "Conflicting inbound SIP
  Trunks: ... without AllowedNumbers set" / "... and AllowedNumber ...";
- UpdateSIPInboundTrunk (UpdateSIPInboundTrunkRequest.Validate, types.go ListUpdate.Validate, the Replace /
  Update Apply): "trunk id must be set", "missing or unsupported update action", "trunk id in the info must be
  empty or match the id in the update", the list update errors; unknown id 404 "requested sip trunk does not
  exist"; an update that leaves the trunk invalid 500 internal (Apply's error, returned as is);
- DeleteSIPTrunk: "trunk ID is required"; an unknown id is deleted all the same (a Redis HDEL);
- CreateSIPDispatchRule (CreateSIPDispatchRuleRequest.Validate, DispatchRuleInfo, SIPDispatchRuleInfo.Validate):
  "rule id must not be set", "missing rule"; a rule of no kind 500 "Unsupported SIP Dispatch Rule: <nil>"
  (sip/sip.go GetPinAndRoom); conflicts (DispatchRuleValidator.Validate): 400 "Dispatch rule for the same
  trunk, inbound number, number, and PIN combination already exists in dispatch rule \"SDR_...\" \"name\"";
- UpdateSIPDispatchRule (UpdateSIPDispatchRuleRequest.Validate): "rule id must be set", "missing or
  unsupported update action", "rule id in the info must be empty or match the id in the update", "missing
  rule"; unknown id 404 "requested sip dispatch rule does not exist";
- DeleteSIPDispatchRule: "dispatch rule ID is required"; unknown id 404 "requested sip dispatch rule does not
  exist";
- TransferSIPParticipant (transferSIPParticipantRequest; TransferSIPParticipantRequest.Validate): "Missing room
  name" and "Missing participant identity" before any grant, then "missing transfer to", "transfer_to must be
  a valid SIP(s) or TEL URI (sip:, sips: or tel:)" (a sip: URI is put in angle brackets), header checks; an
  unknown participant 404 "participant does not exist" (RoomService.GetParticipant); one without a SIP call
  400 "no SIP session associated with participant".
- livekit-server 1.8 (`as_livekit_1_8()`, shared/LIVEKIT.md and livekit/livekit 60a09cb): CreateSIPDispatchRule
  reads the legacy fields only: "missing rule" for `dispatch_rule` alone; rule conflicts without the called
  number ("Conflicting SIP Dispatch Rules: same Trunk+Number+PIN combination for for ..."); header names by
  the older pattern; no transfer_to check.

RoomService and AgentDispatchService (pkg/service/roomservice.go, agent_dispatch_service.go): CreateRoom
refuses a name over 256 bytes, 400 invalid_argument "room name length exceeds limits"; DeleteRoom of a room
that does not exist 404 not_found "requested room does not exist"; ListParticipants of a room nobody is in
lists nobody; CreateDispatch makes the room.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import urllib.error
import urllib.request

import pytest
from google.protobuf.message import Message
from livekit import api
from livekit.protocol import models, sip

from tests.fakes.livekit_stack import FakeLiveKitStack
from tests.fakes.twirp import FakeLiveKitServer

API_KEY = "APItestkey"
API_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
NUMBER, OTHER_NUMBER, CALLER = "+15105550100", "+15105550111", "+447700900123"
ROOM, IDENTITY = "restaurant-1-call-_+447700900123_ygaafuD4miAA", "sip_+447700900123"


@pytest.fixture
def fake():
    server = FakeLiveKitServer(API_KEY, API_SECRET).start()
    yield server
    server.stop()


# --- how requests are sent ---


def call(fake, send, *, token: str | None = None):
    """`send(lkapi)` with the real client: signed with the key and secret (the grants the client picks), or
    with `token` as given."""

    async def go():
        if token is None:
            lkapi = api.LiveKitAPI(fake.ws_url, API_KEY, API_SECRET)
        else:
            lkapi = api.LiveKitAPI(fake.ws_url, token=token)
        try:
            return await send(lkapi)
        finally:
            await lkapi.aclose()

    return asyncio.run(go())


def refused(fake, send, *, token: str | None = None) -> tuple[int, str, str]:
    """(status, Twirp code, message) of the error the client raised for `send`."""
    with pytest.raises(api.TwirpError) as error:
        call(fake, send, token=token)
    return error.value.status, error.value.code, error.value.message


def make_token(video: api.VideoGrants | None = None, sip_grants: api.SIPGrants | None = None, *,
               key: str = API_KEY, secret: str = API_SECRET, ttl: dt.timedelta | None = None) -> str:  # fmt: skip
    token = api.AccessToken(key, secret).with_identity("tester")
    if video is not None:
        token.with_grants(video)
    if sip_grants is not None:
        token.with_sip_grants(sip_grants)
    if ttl is not None:
        token.with_ttl(ttl)
    return token.to_jwt()


SIP_ADMIN = api.SIPGrants(admin=True)


def post(fake, path: str, body: bytes | Message = b"", *, content_type: str = "application/protobuf",
         authorization: str | None = "sip-admin") -> tuple[int, str, bytes]:  # fmt: skip
    """A raw POST to /twirp/`path`: (status, content type, body). `authorization` "sip-admin" is a Bearer
    token with the SIP admin grant; None sends no header."""
    if isinstance(body, Message):
        body = body.SerializeToString()
    headers = {"Content-Type": content_type}
    if authorization == "sip-admin":
        authorization = "Bearer " + make_token(sip_grants=SIP_ADMIN)
    if authorization is not None:
        headers["Authorization"] = authorization
    request = urllib.request.Request(f"http://127.0.0.1:{fake.port}/twirp/{path}", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def twirp(answer: tuple[int, str, bytes]) -> tuple[int, str, str]:
    """(status, code, msg) of a raw Twirp error answer."""
    status, ctype, body = answer
    assert ctype == "application/json", (status, ctype, body)
    error = json.loads(body)
    return status, error["code"], error["msg"]


# --- requests LiveKit takes ---


def trunk(**fields) -> sip.SIPInboundTrunkInfo:
    return sip.SIPInboundTrunkInfo(**({"name": "maitre", "numbers": [NUMBER]} | fields))


def individual(prefix: str = "restaurant-1-call-", pin: str = "") -> sip.SIPDispatchRule:
    return sip.SIPDispatchRule(dispatch_rule_individual=sip.SIPDispatchRuleIndividual(room_prefix=prefix, pin=pin))


def rule_info(**fields) -> sip.SIPDispatchRuleInfo:
    return sip.SIPDispatchRuleInfo(**({"name": "restaurant 1", "rule": individual(), "numbers": [NUMBER]} | fields))


def create_trunk(fake, **fields) -> sip.SIPInboundTrunkInfo:
    return call(fake, lambda lk: lk.sip.create_inbound_trunk(sip.CreateSIPInboundTrunkRequest(trunk=trunk(**fields))))


def create_rule(fake, **fields) -> sip.SIPDispatchRuleInfo:
    request = sip.CreateSIPDispatchRuleRequest(dispatch_rule=rule_info(**fields))
    return call(fake, lambda lk: lk.sip.create_dispatch_rule(request))


def transfer(room_name: str = ROOM, identity: str = IDENTITY, to: str = "tel:+15105550199", **fields):
    request = sip.TransferSIPParticipantRequest(
        room_name=room_name, participant_identity=identity, transfer_to=to, **fields
    )
    return lambda lk: lk.sip.transfer_sip_participant(request)


# ============================================================================================================
# The API key middleware (pkg/service/auth.go APIKeyAuthMiddleware.ServeHTTP): 401 text/plain
# ============================================================================================================


def test_an_authorization_header_without_bearer_is_refused_as_text(fake):
    status, ctype, body = post(fake, "livekit.SIP/ListSIPInboundTrunk", authorization="Basic dXNlcjpwYXNz")

    assert (status, ctype, body) == (401, "text/plain", b"invalid authorization header. Must start with Bearer ")


def test_a_token_that_does_not_parse_is_refused_as_text(fake):
    status, ctype, body = post(fake, "livekit.SIP/ListSIPInboundTrunk", authorization="Bearer not-a-jwt")

    assert (status, ctype, body) == (401, "text/plain", b"invalid authorization token")


def test_an_unknown_api_key_is_refused_as_text(fake):
    token = make_token(sip_grants=SIP_ADMIN, key="APIsomeoneelse")

    status, ctype, body = post(fake, "livekit.SIP/ListSIPInboundTrunk", authorization=f"Bearer {token}")

    assert (status, ctype, body) == (401, "text/plain", b"invalid API key: APIsomeoneelse")


@pytest.mark.parametrize(
    "token",
    [
        make_token(sip_grants=SIP_ADMIN, secret="another-secret-that-is-long-enough-for-hs256-000"),
        make_token(sip_grants=SIP_ADMIN, ttl=dt.timedelta(minutes=-5)),  # expired (LiveKit allows 1 min of skew)
    ],
    ids=["wrong secret", "expired"],
)
def test_a_token_that_does_not_verify_is_refused_as_text(fake, token):
    status, ctype, body = post(fake, "livekit.SIP/ListSIPInboundTrunk", authorization=f"Bearer {token}")

    assert (status, ctype) == (401, "text/plain")
    assert body.decode().startswith(f"invalid token: {token}, error: ")


def test_no_token_at_all_has_no_grants(fake):
    assert twirp(post(fake, "livekit.SIP/ListSIPInboundTrunk", authorization=None)) == (
        401, "unauthenticated", "permissions denied",
    )  # fmt: skip


# ============================================================================================================
# Twirp's routing and decoding (protoc-gen-twirp ServeHTTP / serveX)
# ============================================================================================================


def test_an_unknown_method_is_a_bad_route(fake):
    status, ctype, body = post(fake, "livekit.SIP/CreateSIPTrunkOfGold")

    assert twirp((status, ctype, body)) == (
        404, "bad_route", 'no handler for path "/twirp/livekit.SIP/CreateSIPTrunkOfGold"',
    )  # fmt: skip
    assert json.loads(body)["meta"] == {"twirp_invalid_route": "POST /twirp/livekit.SIP/CreateSIPTrunkOfGold"}


def test_a_content_type_other_than_json_or_protobuf_is_a_bad_route(fake):
    answer = post(fake, "livekit.SIP/ListSIPInboundTrunk", b"{}", content_type="text/plain")

    assert twirp(answer) == (404, "bad_route", 'unexpected Content-Type: "text/plain"')


@pytest.mark.parametrize(
    "content_type, body, message",
    [
        ("application/protobuf", b"\xff\xff\xff", "the protobuf request could not be decoded"),
        ("application/json", b"{not json", "the json request could not be decoded"),
    ],
)
def test_an_undecodable_body_is_malformed(fake, content_type, body, message):
    answer = post(fake, "livekit.SIP/ListSIPInboundTrunk", body, content_type=content_type)

    assert twirp(answer) == (400, "malformed", message)


def test_a_json_request_gets_a_json_answer(fake):
    body = json.dumps({"trunk": {"name": "maitre", "numbers": [NUMBER]}, "field_livekit_does_not_know": 1})

    status, ctype, answer = post(
        fake, "livekit.SIP/CreateSIPInboundTrunk", body.encode(), content_type="application/json"
    )

    assert (status, ctype) == (200, "application/json")
    created = json.loads(answer)
    assert created["sip_trunk_id"].startswith("ST_") and created["numbers"] == [NUMBER]


# ============================================================================================================
# Grants (pkg/service/auth.go Ensure*Permission; twirpAuthError): 401 unauthenticated "permissions denied"
# ============================================================================================================

ROOM_ADMIN_ELSEWHERE = api.VideoGrants(room_admin=True, room="another-room")
EVERY_METHOD = {
    "ListSIPInboundTrunk": lambda lk: lk.sip.list_inbound_trunk(sip.ListSIPInboundTrunkRequest()),
    "CreateSIPInboundTrunk": lambda lk: lk.sip.create_inbound_trunk(sip.CreateSIPInboundTrunkRequest(trunk=trunk())),
    "UpdateSIPInboundTrunk": lambda lk: lk.sip.update_inbound_trunk("ST_x", trunk()),
    "DeleteSIPTrunk": lambda lk: lk.sip.delete_trunk(sip.DeleteSIPTrunkRequest(sip_trunk_id="ST_x")),
    "ListSIPDispatchRule": lambda lk: lk.sip.list_dispatch_rule(sip.ListSIPDispatchRuleRequest()),
    "CreateSIPDispatchRule": lambda lk: lk.sip.create_dispatch_rule(
        sip.CreateSIPDispatchRuleRequest(dispatch_rule=rule_info())
    ),
    "UpdateSIPDispatchRule": lambda lk: lk.sip.update_dispatch_rule("SDR_x", rule_info()),
    "DeleteSIPDispatchRule": lambda lk: lk.sip.delete_dispatch_rule(
        sip.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id="SDR_x")
    ),
    "TransferSIPParticipant": transfer(),
    "CreateRoom": lambda lk: lk.room.create_room(api.CreateRoomRequest(name="r")),
    "DeleteRoom": lambda lk: lk.room.delete_room(api.DeleteRoomRequest(room="r")),
    "ListRooms": lambda lk: lk.room.list_rooms(api.ListRoomsRequest()),
    "ListParticipants": lambda lk: lk.room.list_participants(api.ListParticipantsRequest(room="r")),
    "CreateDispatch": lambda lk: lk.agent_dispatch.create_dispatch(
        api.CreateAgentDispatchRequest(agent_name="a", room="r")
    ),
}  # fmt: skip
# A token with grants, just not the one the method needs (LiveKit's own client signs with exactly that one).
NOT_ENOUGH = {
    "ListSIPInboundTrunk": (
        api.VideoGrants(room_admin=True, room_create=True, room_list=True), api.SIPGrants(call=True),
    ),
    "CreateSIPInboundTrunk": (None, api.SIPGrants(call=True)),
    "UpdateSIPInboundTrunk": (None, api.SIPGrants(call=True)),
    "DeleteSIPTrunk": (None, api.SIPGrants(call=True)),
    "ListSIPDispatchRule": (None, api.SIPGrants(call=True)),
    "CreateSIPDispatchRule": (None, api.SIPGrants(call=True)),
    "UpdateSIPDispatchRule": (None, api.SIPGrants(call=True)),
    "DeleteSIPDispatchRule": (None, api.SIPGrants(call=True)),
    "TransferSIPParticipant": (api.VideoGrants(room_admin=True, room=ROOM), SIP_ADMIN),  # SIP call is missing
    "CreateRoom": (api.VideoGrants(room_list=True, room_admin=True, room="r"), None),
    "DeleteRoom": (api.VideoGrants(room_list=True, room_admin=True, room="r"), None),
    "ListRooms": (api.VideoGrants(room_create=True), None),
    "ListParticipants": (ROOM_ADMIN_ELSEWHERE, None),
    "CreateDispatch": (api.VideoGrants(room_join=True, room="r"), None),  # a diner's grant is not enough
}  # fmt: skip


@pytest.mark.parametrize("method", EVERY_METHOD)
def test_a_token_without_any_grant_is_refused(fake, method):
    assert refused(fake, EVERY_METHOD[method], token=make_token()) == (401, "unauthenticated", "permissions denied")
    assert fake.sip_trunks == {} and fake.rooms == {}


@pytest.mark.parametrize("method", EVERY_METHOD)
def test_a_token_without_the_grant_the_method_needs_is_refused(fake, method):
    video, sip_grants = NOT_ENOUGH[method]
    token = make_token(video, sip_grants, key=API_KEY)

    assert refused(fake, EVERY_METHOD[method], token=token) == (401, "unauthenticated", "permissions denied")


@pytest.mark.parametrize(
    "method, send",
    [
        ("TransferSIPParticipant", transfer()),
        ("CreateDispatch", EVERY_METHOD["CreateDispatch"]),
        ("ListParticipants", EVERY_METHOD["ListParticipants"]),
    ],
)
def test_room_admin_is_for_one_room_only(fake, method, send):
    token = make_token(ROOM_ADMIN_ELSEWHERE, api.SIPGrants(call=True))

    assert refused(fake, send, token=token) == (401, "unauthenticated", "permissions denied")


# ============================================================================================================
# SIP without Redis (pkg/service/sip.go `s.store == nil`: ErrSIPNotConnected)
# ============================================================================================================


@pytest.mark.parametrize("method", [m for m in EVERY_METHOD if "SIP" in m])
def test_every_sip_method_needs_redis(fake, method):
    fake.sip_without_redis()
    fake.sip_callers.add((ROOM, IDENTITY))

    assert refused(fake, EVERY_METHOD[method]) == (500, "internal", "sip not connected (redis required)")


def test_the_grant_is_checked_before_redis(fake):
    fake.sip_without_redis()

    assert refused(fake, EVERY_METHOD["ListSIPInboundTrunk"], token=make_token()) == (
        401, "unauthenticated", "permissions denied",
    )  # fmt: skip


# ============================================================================================================
# ListSIPInboundTrunk (ListSIPInboundTrunkRequest.Filter)
# ============================================================================================================


def test_list_inbound_trunks_is_accepted_and_filters_by_id_and_number(fake):
    ours = create_trunk(fake, numbers=[NUMBER])
    create_trunk(fake, numbers=[OTHER_NUMBER])

    every = call(fake, lambda lk: lk.sip.list_inbound_trunk(sip.ListSIPInboundTrunkRequest()))
    by_number = call(
        fake, lambda lk: lk.sip.list_inbound_trunk(sip.ListSIPInboundTrunkRequest(numbers=["1 (510) 555-0100"]))
    )
    by_id = call(
        fake, lambda lk: lk.sip.list_inbound_trunk(sip.ListSIPInboundTrunkRequest(trunk_ids=[ours.sip_trunk_id]))
    )

    assert len(every.items) == 2
    assert [t.sip_trunk_id for t in by_number.items] == [ours.sip_trunk_id]  # numbers compared normalized
    assert [t.sip_trunk_id for t in by_id.items] == [ours.sip_trunk_id]


# ============================================================================================================
# CreateSIPInboundTrunk (CreateSIPInboundTrunkRequest.Validate, SIPInboundTrunkInfo.Validate, header checks)
# ============================================================================================================


def test_create_inbound_trunk_accepts_a_trunk_without_an_id_and_stores_it_as_sent(fake):
    created = create_trunk(fake, allowed_addresses=["192.0.2.0/24"], metadata='{"by": "maitre"}')

    assert created.sip_trunk_id.startswith("ST_")
    assert fake.sip_trunks[created.sip_trunk_id] == created
    assert (created.name, list(created.numbers), created.metadata) == ("maitre", [NUMBER], '{"by": "maitre"}')


def test_create_inbound_trunk_refuses_a_trunk_id(fake):
    request = sip.CreateSIPInboundTrunkRequest(trunk=trunk(sip_trunk_id="ST_placeholder"))

    assert refused(fake, lambda lk: lk.sip.create_inbound_trunk(request)) == (
        400, "invalid_argument", "trunk id must not be set",
    )  # fmt: skip
    assert fake.sip_trunks == {}  # not created under another id either


def test_create_inbound_trunk_needs_a_trunk(fake):
    request = sip.CreateSIPInboundTrunkRequest()

    assert refused(fake, lambda lk: lk.sip.create_inbound_trunk(request)) == (400, "invalid_argument", "missing trunk")


@pytest.mark.parametrize(
    "fields",
    [{"numbers": []}, {"numbers": [], "allowed_numbers": [CALLER]}],
    ids=["nothing", "only allowed calling numbers"],
)
def test_create_inbound_trunk_needs_numbers_addresses_or_credentials(fake, fields):
    request = sip.CreateSIPInboundTrunkRequest(trunk=trunk(**fields))

    assert refused(fake, lambda lk: lk.sip.create_inbound_trunk(request)) == (
        400, "invalid_argument",
        "for security, one of the fields must be set: AuthUsername+AuthPassword, AllowedAddresses or Numbers",
    )  # fmt: skip


@pytest.mark.parametrize(
    "fields",
    [{"numbers": [], "allowed_addresses": ["192.0.2.1"]}, {"numbers": [], "auth_username": "u", "auth_password": "p"}],
    ids=["addresses", "credentials"],
)
def test_create_inbound_trunk_takes_addresses_or_credentials_instead_of_numbers(fake, fields):
    assert create_trunk(fake, **fields).sip_trunk_id.startswith("ST_")


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"headers": {"From": "x"}}, "invalid header name: header name From not supported"),
        ({"headers": {"X Bad": "x"}},
         "invalid header name: header name X Bad contains invalid characters: char 32 not allowed"),
        ({"headers": {"": "x"}}, "invalid header name: header name cannot be empty"),
        ({"headers": {"X-" + "a" * 254: "x"}}, "invalid header name: header name too long (max 255 characters)"),
        ({"headers": {"X-Ok": "a\x01b"}}, "invalid header value for X-Ok: header X-Ok: value: char 1 not allowed"),
        ({"headers": {"X-Ok": "a" * 1025}},
         "invalid header value for X-Ok: header X-Ok: value too long (max 1024 characters)"),
        ({"attributes_to_headers": {"attr": "X:Bad"}},
         "invalid header name: header name X:Bad contains invalid characters: char 58 not allowed"),
        ({"headers_to_attributes": {"X(Bad)": "attr"}},
         "invalid header name: header name X(Bad) contains invalid characters: char 40 not allowed"),
    ],
    ids=["forbidden name", "space in name", "empty name", "long name", "control char in value", "long value",
         "attributes to headers", "headers to attributes"],
)  # fmt: skip
def test_create_inbound_trunk_checks_sip_headers(fake, fields, message):
    request = sip.CreateSIPInboundTrunkRequest(trunk=trunk(**fields))

    assert refused(fake, lambda lk: lk.sip.create_inbound_trunk(request)) == (400, "invalid_argument", message)


def test_create_inbound_trunk_takes_headers_livekit_allows(fake):
    created = create_trunk(
        fake, headers={"X-Restaurant": "Trattoria, Roma"}, attributes_to_headers={"a": "X-A"},
        headers_to_attributes={"From": "sip.from"},  # only headers LiveKit *sends* are restricted
    )  # fmt: skip

    assert created.sip_trunk_id.startswith("ST_")


# ---- conflicts between trunks (sip/sip.go ValidateTrunksIter, validateTrunkInbound) ----


def test_two_trunks_for_one_number_without_allowed_numbers_conflict(fake):
    theirs = create_trunk(fake, name="theirs", numbers=[NUMBER])
    request = sip.CreateSIPInboundTrunkRequest(trunk=trunk(numbers=[NUMBER, OTHER_NUMBER]))

    assert refused(fake, lambda lk: lk.sip.create_inbound_trunk(request)) == (
        400, "invalid_argument",
        f'Conflicting inbound SIP Trunks: "<new>" and "{theirs.sip_trunk_id}", using the same number(s) '
        f'["{NUMBER}" "{OTHER_NUMBER}"] without AllowedNumbers set',
    )  # fmt: skip


def test_two_trunks_for_one_number_and_one_allowed_number_conflict(fake):
    theirs = create_trunk(fake, name="theirs", allowed_numbers=[CALLER])
    request = sip.CreateSIPInboundTrunkRequest(trunk=trunk(allowed_numbers=["+44 (7700) 900-123"]))

    assert refused(fake, lambda lk: lk.sip.create_inbound_trunk(request)) == (
        400, "invalid_argument",
        f'Conflicting inbound SIP Trunks: "<new>" and "{theirs.sip_trunk_id}", using the same number(s) '
        f'["{NUMBER}"] and AllowedNumber "+44 (7700) 900-123"',  # allowed numbers compared normalized
    )  # fmt: skip


def test_trunks_for_one_number_told_apart_by_allowed_numbers_do_not_conflict(fake):
    create_trunk(fake, name="theirs", allowed_numbers=[CALLER])

    assert create_trunk(fake, allowed_numbers=["+447700900999"]).sip_trunk_id.startswith("ST_")


# ============================================================================================================
# UpdateSIPInboundTrunk (UpdateSIPInboundTrunkRequest.Validate, ListUpdate.Validate, Replace/Update Apply)
# ============================================================================================================


def test_update_inbound_trunk_replaces_a_trunk_and_accepts_its_own_id_in_it(fake):
    stored = create_trunk(fake)

    replacement = trunk(sip_trunk_id=stored.sip_trunk_id, name="renamed")

    updated = call(fake, lambda lk: lk.sip.update_inbound_trunk(stored.sip_trunk_id, replacement))

    assert (updated.sip_trunk_id, updated.name) == (stored.sip_trunk_id, "renamed")
    assert fake.sip_trunks[stored.sip_trunk_id].name == "renamed"


def test_update_inbound_trunk_applies_the_fields_of_an_update(fake):
    stored = create_trunk(fake)

    updated = call(fake, lambda lk: lk.sip.update_inbound_trunk_fields(
        stored.sip_trunk_id, numbers=api.ListUpdate(add=[OTHER_NUMBER]), name="renamed"))  # fmt: skip

    assert (list(updated.numbers), updated.name) == ([NUMBER, OTHER_NUMBER], "renamed")
    assert updated.metadata == stored.metadata


def test_update_inbound_trunk_needs_the_id(fake):
    assert refused(fake, lambda lk: lk.sip.update_inbound_trunk("", trunk())) == (
        400, "invalid_argument", "trunk id must be set",
    )  # fmt: skip


def test_update_inbound_trunk_needs_an_action(fake):
    answer = post(fake, "livekit.SIP/UpdateSIPInboundTrunk", sip.UpdateSIPInboundTrunkRequest(sip_trunk_id="ST_x"))

    assert twirp(answer) == (400, "invalid_argument", "missing or unsupported update action")


def test_update_inbound_trunk_refuses_another_id_in_the_trunk(fake):
    stored = create_trunk(fake)
    send = lambda lk: lk.sip.update_inbound_trunk(stored.sip_trunk_id, trunk(sip_trunk_id="ST_other"))  # noqa: E731

    assert refused(fake, send) == (
        400, "invalid_argument", "trunk id in the info must be empty or match the id in the update",
    )  # fmt: skip


def test_update_inbound_trunk_validates_the_replacement(fake):
    stored = create_trunk(fake)
    send = lambda lk: lk.sip.update_inbound_trunk(stored.sip_trunk_id, trunk(numbers=[]))  # noqa: E731

    assert refused(fake, send) == (
        400, "invalid_argument",
        "for security, one of the fields must be set: AuthUsername+AuthPassword, AllowedAddresses or Numbers",
    )  # fmt: skip


@pytest.mark.parametrize(
    "update, message",
    [
        (models.ListUpdate(), "unsupported list update operation"),
        (models.ListUpdate(clear=True, add=[NUMBER]), "cannot clear and change the list at the same time"),
        (models.ListUpdate(set=[NUMBER], remove=[OTHER_NUMBER]), "cannot set and change the list at the same time"),
        (models.ListUpdate(add=[""]), "empty element in the list"),
    ],
    ids=["empty", "clear and add", "set and remove", "empty element"],
)
def test_update_inbound_trunk_checks_list_updates(fake, update, message):
    request = sip.UpdateSIPInboundTrunkRequest(sip_trunk_id="ST_x", update=sip.SIPInboundTrunkUpdate(numbers=update))

    assert twirp(post(fake, "livekit.SIP/UpdateSIPInboundTrunk", request)) == (400, "invalid_argument", message)


def test_update_inbound_trunk_of_an_unknown_trunk_is_not_found(fake):
    assert refused(fake, lambda lk: lk.sip.update_inbound_trunk("ST_gone", trunk())) == (
        404, "not_found", "requested sip trunk does not exist",
    )  # fmt: skip


def test_an_update_that_leaves_a_trunk_open_to_anyone_is_an_internal_error(fake):
    stored = create_trunk(fake)  # its numbers are all that restricts it

    def send(lk):
        return lk.sip.update_inbound_trunk_fields(stored.sip_trunk_id, numbers=api.ListUpdate(remove=[NUMBER]))

    status, code, message = refused(fake, send)

    assert (status, code) == (500, "internal")  # SIPInboundTrunkUpdate.Apply's error goes back as it is
    assert message.startswith("for security, one of the fields must be set")
    assert list(fake.sip_trunks[stored.sip_trunk_id].numbers) == [NUMBER]


def test_update_inbound_trunk_checks_conflicts_with_the_other_trunks(fake):
    theirs = create_trunk(fake, name="theirs", numbers=[OTHER_NUMBER])
    ours = create_trunk(fake)

    def send(lk):
        return lk.sip.update_inbound_trunk(ours.sip_trunk_id, trunk(numbers=[NUMBER, OTHER_NUMBER]))

    status, code, message = refused(fake, send)

    assert (status, code) == (400, "invalid_argument")
    assert message.startswith(f'Conflicting inbound SIP Trunks: "{ours.sip_trunk_id}" and "{theirs.sip_trunk_id}"')


# ============================================================================================================
# DeleteSIPTrunk
# ============================================================================================================


def test_delete_trunk_deletes_it(fake):
    stored = create_trunk(fake)

    answer = call(fake, lambda lk: lk.sip.delete_trunk(sip.DeleteSIPTrunkRequest(sip_trunk_id=stored.sip_trunk_id)))

    assert answer.sip_trunk_id == stored.sip_trunk_id and fake.sip_trunks == {}


def test_delete_trunk_needs_the_id(fake):
    assert refused(fake, lambda lk: lk.sip.delete_trunk(sip.DeleteSIPTrunkRequest())) == (
        400, "invalid_argument", "trunk ID is required",
    )  # fmt: skip


def test_deleting_an_unknown_trunk_is_no_error(fake):
    # pkg/service/sip.go DeleteSIPTrunk calls the store's DeleteSIPTrunk (a Redis HDEL) without loading it first.
    answer = call(fake, lambda lk: lk.sip.delete_trunk(sip.DeleteSIPTrunkRequest(sip_trunk_id="ST_gone")))

    assert answer.sip_trunk_id == "ST_gone"


# ============================================================================================================
# CreateSIPDispatchRule (CreateSIPDispatchRuleRequest.Validate, DispatchRuleInfo, SIPDispatchRuleInfo.Validate)
# ============================================================================================================


def test_create_dispatch_rule_takes_dispatch_rule_alone(fake):
    created = create_rule(fake, room_config=api.RoomConfiguration(agents=[api.RoomAgentDispatch(agent_name="a")]))

    assert created.sip_dispatch_rule_id.startswith("SDR_")
    assert list(created.numbers) == [NUMBER] and created.room_config.agents[0].agent_name == "a"
    assert fake.sip_rules[created.sip_dispatch_rule_id] == created


def test_create_dispatch_rule_takes_the_legacy_fields_alone(fake):
    request = sip.CreateSIPDispatchRuleRequest(rule=individual(), trunk_ids=["ST_a"], name="legacy")

    created = call(fake, lambda lk: lk.sip.create_dispatch_rule(request))

    assert (list(created.trunk_ids), created.name) == (["ST_a"], "legacy")


def test_create_dispatch_rule_reads_dispatch_rule_when_both_forms_are_sent(fake):
    request = sip.CreateSIPDispatchRuleRequest(
        dispatch_rule=rule_info(trunk_ids=["ST_a"]), rule=individual(), trunk_ids=["ST_a"], name="restaurant 1",
    )  # fmt: skip

    created = call(fake, lambda lk: lk.sip.create_dispatch_rule(request))

    assert list(created.numbers) == [NUMBER]  # `numbers` exists only in dispatch_rule


def test_create_dispatch_rule_refuses_a_rule_id(fake):
    request = sip.CreateSIPDispatchRuleRequest(dispatch_rule=rule_info(sip_dispatch_rule_id="SDR_placeholder"))

    assert refused(fake, lambda lk: lk.sip.create_dispatch_rule(request)) == (
        400, "invalid_argument", "rule id must not be set",
    )  # fmt: skip
    assert fake.sip_rules == {}


@pytest.mark.parametrize(
    "request_",
    [
        sip.CreateSIPDispatchRuleRequest(dispatch_rule=sip.SIPDispatchRuleInfo(name="no rule", numbers=[NUMBER])),
        sip.CreateSIPDispatchRuleRequest(name="legacy, no rule", trunk_ids=["ST_a"]),
    ],
    ids=["dispatch_rule", "legacy"],
)
def test_create_dispatch_rule_needs_a_rule(fake, request_):
    assert refused(fake, lambda lk: lk.sip.create_dispatch_rule(request_)) == (400, "invalid_argument", "missing rule")


def test_a_rule_of_no_kind_is_an_internal_error(fake):
    request = sip.CreateSIPDispatchRuleRequest(dispatch_rule=rule_info(rule=sip.SIPDispatchRule()))

    assert refused(fake, lambda lk: lk.sip.create_dispatch_rule(request)) == (
        500, "internal", "Unsupported SIP Dispatch Rule: <nil>",
    )  # fmt: skip


# ---- conflicts between dispatch rules (sip/sip.go DispatchRuleValidator.Validate) ----


def test_two_rules_for_the_same_trunk_number_and_pin_conflict(fake):
    first = create_rule(fake, trunk_ids=["ST_a"], name="")
    request = sip.CreateSIPDispatchRuleRequest(dispatch_rule=rule_info(trunk_ids=["ST_a"], numbers=["1 510 555 0100"]))

    assert refused(fake, lambda lk: lk.sip.create_dispatch_rule(request)) == (
        400, "invalid_argument",
        "Dispatch rule for the same trunk, inbound number, number, and PIN combination already exists in "
        f'dispatch rule "{first.sip_dispatch_rule_id}" "<blank name>"',
    )  # fmt: skip


@pytest.mark.parametrize(
    "fields",
    [
        {"numbers": [OTHER_NUMBER]}, {"inbound_numbers": [CALLER]}, {"trunk_ids": ["ST_b"]},
        {"rule": individual(pin="1234")},
    ],
    ids=["called number", "caller's number", "trunk", "pin"],
)
def test_rules_that_differ_in_trunk_numbers_or_pin_do_not_conflict(fake, fields):
    create_rule(fake, trunk_ids=["ST_a"])

    assert create_rule(fake, **({"trunk_ids": ["ST_a"]} | fields)).sip_dispatch_rule_id.startswith("SDR_")


# ============================================================================================================
# ListSIPDispatchRule (ListSIPDispatchRuleRequest.Filter)
# ============================================================================================================


def test_list_dispatch_rules_is_accepted_and_filters_by_id_and_trunk(fake):
    ours = create_rule(fake, trunk_ids=["ST_a"])
    create_rule(fake, trunk_ids=["ST_b"])
    everyones = create_rule(fake, trunk_ids=[], numbers=[OTHER_NUMBER])

    by_trunk = call(fake, lambda lk: lk.sip.list_dispatch_rule(sip.ListSIPDispatchRuleRequest(trunk_ids=["ST_a"])))
    by_ids = sip.ListSIPDispatchRuleRequest(dispatch_rule_ids=[ours.sip_dispatch_rule_id])
    by_id = call(fake, lambda lk: lk.sip.list_dispatch_rule(by_ids))

    ids = [r.sip_dispatch_rule_id for r in by_trunk.items]
    assert ids == [ours.sip_dispatch_rule_id, everyones.sip_dispatch_rule_id]  # a rule for any trunk is listed
    assert [r.sip_dispatch_rule_id for r in by_id.items] == [ours.sip_dispatch_rule_id]


# ============================================================================================================
# UpdateSIPDispatchRule (UpdateSIPDispatchRuleRequest.Validate, Replace/Update Apply)
# ============================================================================================================


def test_update_dispatch_rule_replaces_a_rule(fake):
    stored = create_rule(fake)

    replacement = rule_info(sip_dispatch_rule_id=stored.sip_dispatch_rule_id, name="renamed")

    updated = call(fake, lambda lk: lk.sip.update_dispatch_rule(stored.sip_dispatch_rule_id, replacement))

    assert (updated.sip_dispatch_rule_id, updated.name) == (stored.sip_dispatch_rule_id, "renamed")


def test_update_dispatch_rule_applies_the_fields_of_an_update(fake):
    stored = create_rule(fake, attributes={"keep": "1", "drop": "2"}, trunk_ids=["ST_a"])

    updated = call(fake, lambda lk: lk.sip.update_dispatch_rule_fields(
        stored.sip_dispatch_rule_id, trunk_ids=api.ListUpdate(set=["ST_b"]), attributes={"drop": "", "new": "3"},
    ))  # fmt: skip

    assert list(updated.trunk_ids) == ["ST_b"]
    assert dict(updated.attributes) == {"keep": "1", "new": "3"}  # an empty value deletes the attribute


def test_update_dispatch_rule_needs_the_id(fake):
    assert refused(fake, lambda lk: lk.sip.update_dispatch_rule("", rule_info())) == (
        400, "invalid_argument", "rule id must be set",
    )  # fmt: skip


def test_update_dispatch_rule_needs_an_action(fake):
    request = sip.UpdateSIPDispatchRuleRequest(sip_dispatch_rule_id="SDR_x")

    answer = post(fake, "livekit.SIP/UpdateSIPDispatchRule", request)

    assert twirp(answer) == (400, "invalid_argument", "missing or unsupported update action")


def test_update_dispatch_rule_refuses_another_id_in_the_rule(fake):
    stored = create_rule(fake)

    def send(lk):
        return lk.sip.update_dispatch_rule(stored.sip_dispatch_rule_id, rule_info(sip_dispatch_rule_id="SDR_other"))

    assert refused(fake, send) == (
        400, "invalid_argument", "rule id in the info must be empty or match the id in the update",
    )  # fmt: skip


def test_update_dispatch_rule_needs_a_rule_in_the_replacement(fake):
    stored = create_rule(fake)

    def send(lk):
        return lk.sip.update_dispatch_rule(stored.sip_dispatch_rule_id, sip.SIPDispatchRuleInfo(name="x"))

    assert refused(fake, send) == (400, "invalid_argument", "missing rule")


def test_update_dispatch_rule_checks_list_updates(fake):
    request = sip.UpdateSIPDispatchRuleRequest(
        sip_dispatch_rule_id="SDR_x", update=sip.SIPDispatchRuleUpdate(trunk_ids=models.ListUpdate(set=[""]))
    )

    assert twirp(post(fake, "livekit.SIP/UpdateSIPDispatchRule", request)) == (
        400, "invalid_argument", "empty element in the list",
    )  # fmt: skip


def test_update_dispatch_rule_of_an_unknown_rule_is_not_found(fake):
    assert refused(fake, lambda lk: lk.sip.update_dispatch_rule("SDR_gone", rule_info())) == (
        404, "not_found", "requested sip dispatch rule does not exist",
    )  # fmt: skip


def test_update_dispatch_rule_checks_conflicts_with_the_other_rules(fake):
    theirs = create_rule(fake, name="theirs", numbers=[OTHER_NUMBER])
    ours = create_rule(fake)

    def send(lk):
        return lk.sip.update_dispatch_rule(ours.sip_dispatch_rule_id, rule_info(numbers=[OTHER_NUMBER]))

    assert refused(fake, send) == (
        400, "invalid_argument",
        "Dispatch rule for the same trunk, inbound number, number, and PIN combination already exists in "
        f'dispatch rule "{theirs.sip_dispatch_rule_id}" "theirs"',
    )  # fmt: skip


# ============================================================================================================
# DeleteSIPDispatchRule
# ============================================================================================================


def test_delete_dispatch_rule_deletes_it_and_answers_it(fake):
    stored = create_rule(fake)
    request = sip.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=stored.sip_dispatch_rule_id)

    assert call(fake, lambda lk: lk.sip.delete_dispatch_rule(request)) == stored
    assert fake.sip_rules == {}


def test_delete_dispatch_rule_needs_the_id(fake):
    assert refused(fake, lambda lk: lk.sip.delete_dispatch_rule(sip.DeleteSIPDispatchRuleRequest())) == (
        400, "invalid_argument", "dispatch rule ID is required",
    )  # fmt: skip


def test_deleting_an_unknown_dispatch_rule_is_not_found(fake):
    request = sip.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id="SDR_gone")

    assert refused(fake, lambda lk: lk.sip.delete_dispatch_rule(request)) == (
        404, "not_found", "requested sip dispatch rule does not exist",
    )  # fmt: skip


# ============================================================================================================
# TransferSIPParticipant (transferSIPParticipantRequest, TransferSIPParticipantRequest.Validate)
# ============================================================================================================


@pytest.mark.parametrize(
    "to, sent", [("tel:+15105550199", "tel:+15105550199"), ("sip:staff@example.com", "<sip:staff@example.com>")]
)
def test_a_transfer_of_a_phone_caller_is_accepted(fake, to, sent):
    fake.sip_callers.add((ROOM, IDENTITY))

    call(fake, transfer(to=to))

    [accepted] = fake.transfers
    assert accepted.transfer_to == sent  # LiveKit puts a SIP URI in angle brackets for the REFER


@pytest.mark.parametrize(
    "fields, message",
    [({"room_name": ""}, "Missing room name"), ({"identity": ""}, "Missing participant identity")],
)
def test_a_transfer_names_the_room_and_participant_before_any_grant_is_checked(fake, fields, message):
    assert refused(fake, transfer(**fields), token=make_token()) == (400, "invalid_argument", message)


@pytest.mark.parametrize(
    "to, message",
    [
        ("", "missing transfer to"),
        ("+15105550199", "transfer_to must be a valid SIP(s) or TEL URI (sip:, sips: or tel:)"),
        ("<mailto:staff@example.com>", "transfer_to must be a valid SIP(s) or TEL URI (sip:, sips: or tel:)"),
    ],
)
def test_a_transfer_needs_a_sip_or_tel_uri(fake, to, message):
    fake.sip_callers.add((ROOM, IDENTITY))

    assert refused(fake, transfer(to=to)) == (400, "invalid_argument", message)
    assert fake.transfers == []


def test_a_transfer_checks_its_sip_headers(fake):
    fake.sip_callers.add((ROOM, IDENTITY))

    assert refused(fake, transfer(headers={"Refer-To": "sip:x@example.com"})) == (
        400, "invalid_argument", "invalid header name: header name Refer-To not supported",
    )  # fmt: skip


def test_a_transfer_of_someone_not_in_the_room_is_not_found(fake):
    assert refused(fake, transfer()) == (404, "not_found", "participant does not exist")


def test_a_transfer_of_a_participant_without_a_sip_call_is_refused():
    stack = FakeLiveKitStack(API_KEY, API_SECRET).start()
    try:
        diner = models.ParticipantInfo(identity="diner-1", kind=models.ParticipantInfo.Kind.STANDARD)
        stack.participants[ROOM] = {"diner-1": (diner, None)}

        assert refused(stack, transfer(identity="diner-1")) == (
            400, "invalid_argument", "no SIP session associated with participant",
        )  # fmt: skip
    finally:
        stack.stop()


def test_a_refused_transfer_keeps_its_sip_status(fake):
    fake.sip_callers.add((ROOM, IDENTITY))
    fake.refuse_transfers(403)

    with pytest.raises(api.SipCallError) as error:
        call(fake, transfer())

    assert (error.value.status, error.value.sip_status_code) == (403, 403)


# ============================================================================================================
# RoomService and AgentDispatchService (pkg/service/roomservice.go, agent_dispatch_service.go)
# ============================================================================================================


def test_create_room_is_accepted_and_an_existing_room_is_answered_as_it_is(fake):
    request = api.CreateRoomRequest(name="r", empty_timeout=15, departure_timeout=5)

    made = call(fake, lambda lk: lk.room.create_room(request))
    again = call(fake, lambda lk: lk.room.create_room(api.CreateRoomRequest(name="r", empty_timeout=99)))

    assert (made.name, made.empty_timeout, made.departure_timeout) == ("r", 15, 5)
    assert again == made


def test_create_room_takes_a_name_of_256_bytes_and_no_longer(fake):
    name = "é" * 128  # 256 bytes in UTF-8

    assert call(fake, lambda lk: lk.room.create_room(api.CreateRoomRequest(name=name))).name == name
    assert refused(fake, lambda lk: lk.room.create_room(api.CreateRoomRequest(name=name + "x"))) == (
        400, "invalid_argument", "room name length exceeds limits",
    )  # fmt: skip


def test_delete_room_deletes_it(fake):
    call(fake, lambda lk: lk.room.create_room(api.CreateRoomRequest(name="r")))

    call(fake, lambda lk: lk.room.delete_room(api.DeleteRoomRequest(room="r")))

    assert fake.rooms == {} and fake.deleted_rooms == ["r"]


def test_deleting_a_room_that_does_not_exist_is_not_found(fake):
    assert refused(fake, lambda lk: lk.room.delete_room(api.DeleteRoomRequest(room="gone"))) == (
        404, "not_found", "requested room does not exist",
    )  # fmt: skip


def test_list_rooms_is_accepted(fake):
    call(fake, lambda lk: lk.room.create_room(api.CreateRoomRequest(name="a")))
    call(fake, lambda lk: lk.room.create_room(api.CreateRoomRequest(name="b")))

    every = call(fake, lambda lk: lk.room.list_rooms(api.ListRoomsRequest()))
    named = call(fake, lambda lk: lk.room.list_rooms(api.ListRoomsRequest(names=["b"])))

    assert [r.name for r in every.rooms] == ["a", "b"] and [r.name for r in named.rooms] == ["b"]


def test_list_participants_of_a_room_nobody_is_in_lists_nobody(fake):
    answer = call(fake, lambda lk: lk.room.list_participants(api.ListParticipantsRequest(room="nobody-here")))

    assert list(answer.participants) == []


def test_create_dispatch_is_accepted_and_makes_the_room(fake):
    dispatch = call(fake, lambda lk: lk.agent_dispatch.create_dispatch(
        api.CreateAgentDispatchRequest(agent_name="a", room="r", metadata='{"restaurant_id": 3}')))  # fmt: skip

    assert dispatch.id.startswith("AD_") and (dispatch.room, dispatch.metadata) == ("r", '{"restaurant_id": 3}')
    assert (fake.rooms["r"].empty_timeout, fake.rooms["r"].departure_timeout) == (300, 20)


# ============================================================================================================
# livekit-server 1.8 (as_livekit_1_8)
# ============================================================================================================


@pytest.fixture
def fake_1_8(fake):
    return fake.as_livekit_1_8()


def test_1_8_refuses_dispatch_rule_alone_as_missing_rule(fake_1_8):
    request = sip.CreateSIPDispatchRuleRequest(dispatch_rule=rule_info())

    assert refused(fake_1_8, lambda lk: lk.sip.create_dispatch_rule(request)) == (
        400, "invalid_argument", "missing rule",
    )  # fmt: skip


def test_1_8_reads_the_legacy_fields_of_a_request_carrying_both(fake_1_8):
    request = sip.CreateSIPDispatchRuleRequest(
        dispatch_rule=rule_info(name="from dispatch_rule", trunk_ids=["ST_a"]),
        rule=individual(), trunk_ids=["ST_a"], name="legacy",
        room_config=api.RoomConfiguration(agents=[api.RoomAgentDispatch(agent_name="a")]),
    )  # fmt: skip

    created = call(fake_1_8, lambda lk: lk.sip.create_dispatch_rule(request))

    assert (created.name, list(created.numbers)) == ("legacy", [])  # 1.8 has no `numbers` filter
    assert created.room_config.agents[0].agent_name == "a"


def test_1_8_keys_rule_conflicts_without_the_called_number(fake_1_8):
    def legacy(number: str):
        # `numbers` is only in dispatch_rule, which 1.8 does not read
        return sip.CreateSIPDispatchRuleRequest(
            dispatch_rule=rule_info(numbers=[number]), rule=individual(), trunk_ids=["ST_a"], name=number
        )

    first = call(fake_1_8, lambda lk: lk.sip.create_dispatch_rule(legacy(NUMBER)))

    assert refused(fake_1_8, lambda lk: lk.sip.create_dispatch_rule(legacy(OTHER_NUMBER))) == (
        400, "invalid_argument",
        "Conflicting SIP Dispatch Rules: same Trunk+Number+PIN combination for for "
        f'"<new>" and "{first.sip_dispatch_rule_id}"',
    )  # fmt: skip


def test_1_8_checks_header_names_with_its_pattern(fake_1_8):
    request = sip.CreateSIPInboundTrunkRequest(trunk=trunk(headers={"X_Underscore": "v"}))

    assert refused(fake_1_8, lambda lk: lk.sip.create_inbound_trunk(request)) == (
        400, "invalid_argument", 'invalid header name: "X_Underscore"',
    )  # fmt: skip


def test_1_8_does_not_check_transfer_to(fake_1_8):
    fake_1_8.sip_callers.add((ROOM, IDENTITY))

    call(fake_1_8, transfer(to="+15105550199"))

    assert [t.transfer_to for t in fake_1_8.transfers] == ["+15105550199"]


def test_1_8_still_refuses_a_trunk_id(fake_1_8):
    request = sip.CreateSIPInboundTrunkRequest(trunk=trunk(sip_trunk_id="ST_placeholder"))

    assert refused(fake_1_8, lambda lk: lk.sip.create_inbound_trunk(request)) == (
        400, "invalid_argument", "trunk id must not be set",
    )  # fmt: skip
