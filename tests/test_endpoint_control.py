"""The sandbox's controls over HTTP (``/workmail-sandbox-api/``), driven through ``SandboxClient``.

One endpoint for the module (``serve(0, smtp_port=None)``); each test starts
from ``POST /reset``. Checks of the kit's own services over the wire run the
real ``aws`` program in a subprocess: inside this process the kit's hooks would
answer a boto3 ``workmail`` client before it reached the endpoint.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import smtplib
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
import yaml

from workmail_sandbox import lessons
from workmail_sandbox.deploy import deploy_handler
from workmail_sandbox.endpoint import CONTROL_PREFIX, serve
from workmail_sandbox.endpoint.client import ControlAPIError, SandboxClient
from workmail_sandbox.endpoint.control import MAX_JSON_BODY_BYTES, ROUTES
from workmail_sandbox.errors import RuleError, SandboxError
from workmail_sandbox.organization import Organization
from workmail_sandbox.rules import RuleSet
from workmail_sandbox.rules.files import MAX_RULE_FILE_BYTES

ROOT = Path(__file__).resolve().parent.parent
PLAIN = ROOT / "data" / "emails" / "01-plain-inbound.eml"
OUTBOUND = ROOT / "data" / "emails" / "02-plain-outbound.eml"
AWS = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
needs_aws_cli = pytest.mark.skipif(AWS is None, reason="the AWS CLI is not installed (pip install awscli: the dev extra)")

JUNK_EXAMPLE_ORG = """
inbound:
  - name: junk-example-org
    senders: ["example.org"]
    recipients: ["*"]
    action: MOVE_TO_JUNK
"""


@pytest.fixture(scope="module")
def ep():
    endpoint = serve(0, smtp_port=None)
    try:
        yield endpoint
    finally:
        endpoint.stop()


@pytest.fixture
def api(ep):
    client = SandboxClient(ep.url)
    client.reset()
    for snapshot in client.snapshots():
        client.delete_snapshot(snapshot["name"])
    return client


def aws(ep, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The real ``aws`` program, with only the endpoint's environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_")) and "PROXY" not in k.upper()}
    env.update(ep.environment(), AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_PAGER="")
    done = subprocess.run([AWS or "aws", *args], env=env, capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        raise AssertionError(f"aws {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done


def raw_call(ep, method: str, path: str, body: bytes | None = None) -> tuple[int, dict]:
    """One request without the client, to see the status and the JSON exactly as sent."""
    request = urllib.request.Request(ep.url + CONTROL_PREFIX + path, data=body, method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# ---------------------------------------------------------------------- the sandbox


def test_health_and_the_list_of_routes(api):
    assert api.health() == {"status": "running", "region": "us-east-1", "account": "123456789012"}
    listed = [r["route"] for r in api.routes()]
    assert listed == [str(route) for route in ROUTES]
    assert "PUT /organizations/<organization>/rules" in listed and "POST /messages-in-transit" in listed


def test_every_route_is_in_the_docs_table():
    text = (ROOT / "docs" / "endpoint.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(GET|POST|PUT|DELETE) (/[^`]*)` \|", text, flags=re.M))
    assert documented == {(route.method, "/" + route.pattern) for route in ROUTES}


def test_an_unknown_route_is_404_with_the_routes_and_a_wrong_method_405(ep, api):
    status, answer = raw_call(ep, "GET", "no-such-control")
    assert status == 404
    assert answer["error"] == "No control GET /no-such-control."
    assert "GET /health" in answer["fix"] and "POST /reset" in answer["routes"]
    status, answer = raw_call(ep, "DELETE", "clock")
    assert status == 405 and answer == {"error": "/clock takes GET, not DELETE.", "fix": "use GET"}


def test_bad_json_is_400_with_a_fix(ep, api):
    status, answer = raw_call(ep, "POST", "clock/advance", b'{"hours": 25')
    assert status == 400 and answer["error"].startswith("The body is not valid JSON (line 1")
    assert set(answer) == {"error", "fix"}
    for body, error in [(b"[25]", "The body must be a JSON object, got list."),
                        (b'{"hour": 25}', "Unknown key 'hour'."),
                        (b'{"hours": -1}', "hours must be a number of zero or more, got -1."),
                        (b'{"hours": true}', "hours must be a number of zero or more, got True."),
                        (b"{}", "Say how far to move the clock.")]:  # fmt: skip
        status, answer = raw_call(ep, "POST", "clock/advance", body)
        assert (status, answer["error"]) == (400, error)


def test_request_bodies_are_bounded(ep, api):
    status, answer = raw_call(ep, "POST", "snapshots", b" " * (MAX_JSON_BODY_BYTES + 1))
    assert status == 413 and "over the 65,536-byte limit" in answer["error"]
    org = api.create_example_organization()
    with pytest.raises(ControlAPIError) as refused:
        api.set_rules(org["id"], "#" * (MAX_RULE_FILE_BYTES + 1))
    assert refused.value.status == 413 and "limit for a rule file" in refused.value.error
    assert api.snapshots() == []


def test_the_clock_moves_and_a_message_leaves_the_24_hour_window(ep, api, tmp_path):
    org = api.create_example_organization()
    message_id = api.put_message_in_transit(PLAIN, org["id"])
    before = api.clock()
    moved = api.advance_clock(hours=25)
    assert moved["advanced_seconds"] == 25 * 3600 and moved["now"] == api.clock() != before
    assert ep.sandbox.clock.now().isoformat() == moved["now"]
    if AWS is not None:
        gone = aws(ep, "workmailmessageflow", "get-raw-message-content", "--message-id", message_id,
                   str(tmp_path / "late.eml"), check=False)  # fmt: skip
        assert gone.returncode != 0 and "ResourceNotFoundException" in gone.stderr


def test_snapshot_and_restore_bring_back_a_bucket_made_over_the_wire(ep, api):
    s3 = boto3.client("s3", endpoint_url=ep.url, region_name="us-east-1", aws_access_key_id="AKIAWORKMAILSANDBOX0",
                      aws_secret_access_key="workmail-sandbox-fake-secret-key")  # fmt: skip
    s3.create_bucket(Bucket="kept-bucket")
    s3.put_object(Bucket="kept-bucket", Key="note.txt", Body=b"before the snapshot")
    taken = api.snapshot("with-bucket")
    assert taken["name"] == "with-bucket"
    assert [s["name"] for s in api.snapshots()] == ["with-bucket"]
    with pytest.raises(ControlAPIError) as refused:
        api.snapshot("with-bucket")
    assert refused.value.status == 409 and "already a snapshot named 'with-bucket'" in refused.value.error

    s3.delete_object(Bucket="kept-bucket", Key="note.txt")
    s3.delete_bucket(Bucket="kept-bucket")
    s3.create_bucket(Bucket="later-bucket")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["later-bucket"]

    assert api.restore("with-bucket")["restored"] == "with-bucket"
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["kept-bucket"]
    assert s3.get_object(Bucket="kept-bucket", Key="note.txt")["Body"].read() == b"before the snapshot"

    api.reset()  # named snapshots survive a reset
    assert s3.list_buckets()["Buckets"] == []
    api.restore("with-bucket")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["kept-bucket"]

    assert api.delete_snapshot("with-bucket") == {"deleted": "with-bucket"}
    with pytest.raises(ControlAPIError) as refused:
        api.restore("with-bucket")
    assert refused.value.status == 404 and "No snapshot named 'with-bucket'" in refused.value.error
    with pytest.raises(ControlAPIError) as refused:
        api.snapshot("no spaces/allowed")
    assert refused.value.status == 400


def test_reset_empties_the_sandbox(api):
    api.create_example_organization()
    assert len(api.organizations()) == 1
    assert api.reset()["reset"] is True
    assert api.organizations() == []


# ---------------------------------------------------------------------- organizations and rules


def test_the_example_organization_is_the_registered_object_the_smtp_door_uses(ep, api):
    org = api.create_example_organization()
    assert org["alias"] == "example-org" and org["default_domain"] == "example.com"
    assert set(org["domains"]) >= {"example.com", "sales.example.com"}
    assert org["users"] == ["alice@example.com", "bob@example.com", "carol@example.com", "dave@sales.example.com"]
    assert org["groups"] == {"finance@example.com": ["alice@example.com"]}
    listed = api.organizations()
    assert [(o["id"], o["alias"], o["state"]) for o in listed] == [(org["id"], "example-org", "Active")]
    assert "sales.example.com" in listed[0]["domains"]
    assert api.organization("example-org")["id"] == org["id"]  # an alias works where an id does

    api.set_rules(org["id"], JUNK_EXAMPLE_ORG)
    registered = Organization.registered(ep.sandbox)[org["id"]]
    assert Organization.for_domain(ep.sandbox, "example.com") is registered
    assert [r.name for r in registered.rules.inbound] == ["junk-example-org"]

    with pytest.raises(ControlAPIError) as refused:
        api.create_example_organization()
    assert refused.value.status == 409 and refused.value.error.startswith("NameAvailabilityException")


def test_create_organization_with_its_domains_users_and_groups(api):
    org = api.create_organization("acme", domains=["acme.example"], users=["ann", "ben@acme.example"],
                                  groups={"team": ["ann", "ben"]})  # fmt: skip
    assert org["users"] == ["ann@acme.example", "ben@acme.example"]
    assert org["groups"] == {"team@acme.example": ["ann@acme.example", "ben@acme.example"]}
    with pytest.raises(ControlAPIError) as refused:
        api.create_organization("other", domains=["other.example"], users=["zed@elsewhere.example"])
    assert refused.value.status == 400 and "not in one of the organization's domains" in refused.value.error
    with pytest.raises(ControlAPIError) as refused:
        api.request("POST", "organizations", json_body={"alias": "shapes", "users": [1, 2]})
    assert (refused.value.status, refused.value.error) == (400, "users has the wrong shape.")
    assert "shapes" not in [o["alias"] for o in api.organizations()]  # refused before anything was made


def test_rules_round_trip_as_yaml_json_path_and_ruleset(api):
    org = api.create_example_organization()
    basic = ROOT / "data" / "rules" / "basic.yaml"
    assert api.set_rules(org["id"], basic) == {"organization": org["id"], "inbound": 4, "outbound": 0}
    expected = RuleSet.from_file(basic).to_dict()
    assert api.rules(org["id"]) == expected
    assert api.set_rules(org["id"], json.dumps(expected))["inbound"] == 4  # the JSON it gave back
    assert api.set_rules(org["id"], RuleSet.from_file(basic))["inbound"] == 4
    assert api.organization(org["id"])["rules"] == {"inbound": 4, "outbound": 0}


def test_a_bad_rule_file_is_400_with_the_rule_errors_text(api):
    org = api.create_example_organization()
    text = "inbound:\n  - name: typo\n    sender: ['*']\n    recipients: ['*']\n    action: DROP\n"
    with pytest.raises(RuleError) as local:
        RuleSet.from_dict(yaml.safe_load(text), source="rules.yaml")
    with pytest.raises(ControlAPIError) as refused:
        api.set_rules(org["id"], text)
    assert refused.value.status == 400
    assert refused.value.error == local.value.problem and "did you mean 'senders'" in refused.value.error
    assert refused.value.fix == local.value.fix
    with pytest.raises(ControlAPIError) as refused:
        api.set_rules(org["id"], '{"inbound": [}')
    assert refused.value.status == 400 and refused.value.error.startswith("rules.json: not valid JSON")
    with pytest.raises(ControlAPIError) as refused:
        api.set_rules(org["id"], "inbound:\n  - name: a\n    senders: [*]\n")
    assert refused.value.status == 400 and "quote patterns that start with '*'" in (refused.value.fix or "")
    assert api.rules(org["id"])["inbound"] == []  # nothing was half-applied


def test_an_unknown_organization_mailbox_or_index_is_404(api):
    with pytest.raises(ControlAPIError) as refused:
        api.organization("m-" + "0" * 32)
    assert refused.value.status == 404 and "No organization 'm-00000000" in refused.value.error
    assert "POST /organizations/example" in (refused.value.fix or "")
    for call in (lambda: api.set_rules("m-" + "0" * 32, JUNK_EXAMPLE_ORG), lambda: api.events("nope")):
        with pytest.raises(ControlAPIError) as refused:
            call()
        assert refused.value.status == 404
    org = api.create_example_organization()
    with pytest.raises(ControlAPIError) as refused:
        api.mailbox(org["id"], "nobody@example.com")
    assert refused.value.status == 404 and "nobody@example.com has no mailbox" in refused.value.error
    with pytest.raises(ControlAPIError) as refused:
        api.raw_message(org["id"], "alice@example.com", 0)
    assert refused.value.status == 404 and "it holds 0" in refused.value.error


# ---------------------------------------------------------------------- mail


def test_rules_then_a_message_land_in_the_mailbox_and_the_event_log(ep, api):
    org = api.create_example_organization()
    api.set_rules(org["id"], JUNK_EXAMPLE_ORG)
    result = api.send_message(org["id"], PLAIN)
    assert result["outcomes"] == {"alice@example.com": "junk"}
    assert result["recipients"][0]["rule"] == "junk-example-org" and result["direction"] == "INBOUND"

    box = api.mailbox(org["id"], "alice@example.com")
    assert (box["inbox"], box["junk"]) == (0, 1)
    (item,) = box["items"]
    assert item["folder"] == "Junk Email" and item["subject"] == "Delivery window for order 4471"
    assert item["from"] == "carlos.mendes@example.org" and item["trace_id"] == result["trace_id"]
    assert item["message_id"] == "<CAH7w3QmZ1pLr8Tn2xq0E4v9s6KdFb@mail-out.example.org>"
    assert api.raw_message(org["id"], "alice@example.com", 0) == PLAIN.read_bytes()
    counts = {b["address"]: (b["inbox"], b["junk"]) for b in api.mailboxes(org["id"])}
    assert counts["alice@example.com"] == (0, 1) and counts["bob@example.com"] == (0, 0)

    events = api.events(org["id"])
    names = [e["eventName"] for e in events]
    assert names[0] == "ORGANIZATION_EMAIL_RECEIVED" and "RULE_APPLIED" in names
    delivered = next(e for e in events if e["eventName"] == "MAILBOX_EMAIL_DELIVERED")
    assert delivered["folder"] == "Junk Email" and delivered["recipient"] == "alice@example.com"
    assert {e["traceId"] for e in events} == {result["trace_id"]}
    assert api.events(org["id"], trace_id="not-a-trace") == []
    # the API wrote to the organization object everyone else reads
    assert len(Organization.registered(ep.sandbox)[org["id"]].mailbox("alice@example.com").junk) == 1


def test_an_envelope_and_a_run_lambda_function_bounce_to_the_outbox(ep, api):
    org = api.create_example_organization()
    function = deploy_handler(
        "def lambda_handler(event, context):\n"
        "    return {'actions': [{'allRecipients': True, 'action': {'type': 'BOUNCE', 'parameters': "
        "{'bounceMessage': 'Not today.'}}}]}\n",
        name="api-bouncer",
    )
    lessons.grant_workmail(ep.sandbox, "api-bouncer", org["arn"])
    api.set_rules(org["id"], {"inbound": [{
        "name": "bounce-all", "senders": ["*"], "recipients": ["*"], "action": "RUN_LAMBDA",
        "function_arn": function["FunctionArn"], "synchronous": True, "fallback_action": "DEFAULT",
        "rule_timeout_minutes": 10,
    }]})  # fmt: skip
    result = api.send_message(org["id"], PLAIN, mail_from="carlos.mendes@example.org",
                              recipients=["bob@example.com", "carol@example.com"])  # fmt: skip
    assert result["outcomes"] == {"bob@example.com": "bounced", "carol@example.com": "bounced"}
    (invocation,) = result["invocations"]
    assert invocation["outcome"] == "applied" and invocation["recipients"] == 2
    (bounce,) = api.outbox(org["id"])
    assert bounce["kind"] == "bounce" and bounce["recipient"] == "carlos.mendes@example.org"
    assert b"Not today." in api.outbox_raw(org["id"], 0)
    assert "LAMBDA_INVOKED" in [e["eventName"] for e in api.events(org["id"])]


def test_outbound_mail_goes_to_the_outbox(api):
    org = api.create_example_organization()
    result = api.send_message(org["id"], OUTBOUND, direction="outbound")
    assert result["direction"] == "OUTBOUND" and set(result["outcomes"].values()) == {"sent"}
    sent = api.outbox(org["id"])
    assert sent and {s["via"] for s in sent} == {"internet"}
    with pytest.raises(ControlAPIError) as refused:
        api.send_message(org["id"], OUTBOUND, direction="sideways")
    assert refused.value.status == 400 and "direction must be" in refused.value.error
    with pytest.raises(ControlAPIError) as refused:
        api.send_message(org["id"], b"")
    assert refused.value.status == 400 and "no message" in refused.value.error


@needs_aws_cli
def test_a_message_put_in_transit_is_fetched_by_the_aws_cli(ep, api, tmp_path):
    org = api.create_example_organization()
    described = json.loads(aws(ep, "workmail", "describe-organization", "--organization-id", org["id"]).stdout)
    assert described["Alias"] == "example-org" and described["ARN"] == org["arn"]
    message_id = api.put_message_in_transit(PLAIN, org["id"])
    out = tmp_path / "out.eml"
    aws(ep, "workmailmessageflow", "get-raw-message-content", "--message-id", message_id, str(out))
    assert out.read_bytes() == PLAIN.read_bytes() == api.message_content(message_id)
    assert api.message_in_transit(message_id) == {"message_id": message_id, "size": len(PLAIN.read_bytes()),
                                                  "updates": []}  # fmt: skip
    with pytest.raises(ControlAPIError) as refused:
        api.message_in_transit("no-such-message")
    assert refused.value.status == 404
    with pytest.raises(ControlAPIError) as refused:
        api.request("POST", "messages-in-transit", body=PLAIN.read_bytes())
    assert refused.value.status == 400 and "organization_id" in (refused.value.fix or "")


@needs_aws_cli
def test_the_shell_prefix_reaches_the_endpoint_from_a_process_that_runs_the_sandbox(ep, api):
    """What a notebook's ``!`` line inherits: the sandbox's variables, which ignore AWS_ENDPOINT_URL."""
    org = api.create_example_organization()
    assert os.environ["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] == "true"
    done = subprocess.run(f"{ep.shell_prefix()} aws workmail list-organizations", shell=True, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [o["OrganizationId"] for o in json.loads(done.stdout)["OrganizationSummaries"]] == [org["id"]]


def test_mail_through_the_smtp_door_lands_in_the_mailbox_the_api_reads(ep, api):
    from workmail_sandbox.smtp_door import SmtpDoor

    org = api.create_example_organization()
    api.set_rules(org["id"], JUNK_EXAMPLE_ORG)
    # local_hostname: smtplib would look up this machine's name, which the sandbox's network guard refuses
    with SmtpDoor(ep.sandbox, port=0) as door, smtplib.SMTP("127.0.0.1", door.port, local_hostname="localhost",
                                                             timeout=60) as smtp:  # fmt: skip
        smtp.sendmail("carlos.mendes@example.org", ["bob@example.com"], PLAIN.read_bytes())
    box = api.mailbox(org["id"], "bob@example.com")
    assert (box["inbox"], box["junk"]) == (0, 1)  # the rule set through the API applied to SMTP mail


def test_the_client_says_when_nothing_answers():
    with pytest.raises(SandboxError, match="Nothing answers at http://127.0.0.1:9"):
        SandboxClient("http://127.0.0.1:9", timeout=5).health()
    with pytest.raises(SandboxError, match="is not the endpoint's URL"):
        SandboxClient("127.0.0.1:5055")
