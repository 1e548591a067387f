"""Stand-ins: the team's own answers for AWS operations and HTTP endpoints nothing else answers offline.

* ``sb.stand_in``: any operation of any service, for every client (made before or after,
  function code included), ahead of moto and the kit's emulators; answers checked against
  botocore's output shape; errors raised as botocore raises them; a failing answer function
  is a ``ClientError`` ``StandInError``, never a Python exception in the caller;
* ``sb.stand_in_http``: requests, urllib.request, http.client and urllib3 get the answer; an
  unmatched URL of a stand-in's host is refused naming the prefixes; every other host still
  meets the network guard, and moto still answers requests to AWS URLs;
* calls are recorded; ``remove()``, ``reset()`` and ``stop()`` take stand-ins away and put
  every interception back;
* ``load_stand_ins`` reads YAML and Python declaration files, refusing bad ones in one line.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import urllib.error
import urllib.parse
import urllib.request

import boto3
import pytest
import requests
import responses
import urllib3
from botocore.exceptions import ClientError

from workmail_sandbox import deploy_handler, stand_ins
from workmail_sandbox import sandbox as sandbox_module
from workmail_sandbox.errors import SandboxError
from workmail_sandbox.network import NetworkBlockedError

TRANSLATED = {"TranslatedText": "Bonjour", "SourceLanguageCode": "en", "TargetLanguageCode": "fr"}
TRANSLATE_PARAMS = {"Text": "Hello", "SourceLanguageCode": "en", "TargetLanguageCode": "fr"}
HOOK = "https://hooks.slack.example/services/"


def _translate(**params):
    return boto3.client("translate").translate_text(**(params or TRANSLATE_PARAMS))


# AWS operations -------------------------------------------------------------------------------------


def test_a_stand_in_answers_an_operation_moto_does_not_emulate(workmail_sandbox):
    stand_in = workmail_sandbox.stand_in("translate", "translate_text", TRANSLATED)
    answer = _translate()
    assert answer["TranslatedText"] == "Bonjour"
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert stand_in.calls == [TRANSLATE_PARAMS]
    assert (stand_in.service, stand_in.operation, stand_in.method_name) == (
        "translate",
        "TranslateText",
        "translate_text",
    )


def test_api_and_method_names_are_both_accepted(workmail_sandbox):
    by_api = workmail_sandbox.stand_in("comprehend", "DetectDominantLanguage", {"Languages": []})
    by_method = workmail_sandbox.stand_in("comprehend", "detect_dominant_language", {"Languages": []})
    assert by_api.operation == by_method.operation == "DetectDominantLanguage"
    assert not by_api.active and by_method.active, "a later stand-in for the same operation replaces the earlier"
    assert boto3.client("comprehend").detect_dominant_language(Text="hi")["Languages"] == []
    assert (len(by_api.calls), len(by_method.calls)) == (0, 1)


def test_a_stand_in_takes_precedence_over_moto_and_the_kits_emulators(workmail_sandbox):
    secrets = workmail_sandbox.client("secretsmanager")
    secrets.create_secret(Name="api-key", SecretString="from-moto")
    fixed = workmail_sandbox.stand_in("secretsmanager", "get_secret_value", {"SecretString": "from-the-stand-in"})
    assert secrets.get_secret_value(SecretId="api-key")["SecretString"] == "from-the-stand-in"
    workmail = workmail_sandbox.stand_in(
        "workmail", "ListOrganizations", {"OrganizationSummaries": [{"OrganizationId": "m-stand-in"}]}
    )
    listed = workmail_sandbox.client("workmail").list_organizations()["OrganizationSummaries"]
    assert [o["OrganizationId"] for o in listed] == ["m-stand-in"]
    fixed.remove()
    workmail.remove()
    assert secrets.get_secret_value(SecretId="api-key")["SecretString"] == "from-moto", "moto answers again"
    assert workmail_sandbox.client("workmail").list_organizations()["OrganizationSummaries"] == []
    assert workmail_sandbox.stand_ins() == []


def test_clients_made_before_the_stand_in_are_answered_too(workmail_sandbox):
    early = boto3.client("translate")
    with pytest.raises(ClientError, match="NotImplemented"):
        early.translate_text(**TRANSLATE_PARAMS)
    workmail_sandbox.stand_in("translate", "TranslateText", TRANSLATED)
    assert early.translate_text(**TRANSLATE_PARAMS)["TranslatedText"] == "Bonjour"


def test_an_answer_function_gets_the_parameters_and_its_answer_is_converted_as_botocore_parses(workmail_sandbox):
    def answer(params):
        params["SecretId"] = "changed by the function"  # the recorded call is a copy
        return {"Name": "db", "SecretString": "pw", "CreatedDate": "2024-05-01T12:00:00Z", "SecretBinary": "raw"}

    stand_in = workmail_sandbox.stand_in("secretsmanager", "GetSecretValue", answer)
    got = boto3.client("secretsmanager").get_secret_value(SecretId="db", VersionStage="AWSCURRENT")
    assert got["CreatedDate"] == dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
    assert got["SecretBinary"] == b"raw"
    assert stand_in.calls == [{"SecretId": "db", "VersionStage": "AWSCURRENT"}]


def test_a_streaming_output_is_a_streaming_body(workmail_sandbox):
    workmail_sandbox.stand_in("s3", "get_object", {"Body": b"hello", "ContentLength": 5})
    body = boto3.client("s3").get_object(Bucket="no-such-bucket", Key="k")["Body"]
    assert body.read() == b"hello"
    assert boto3.client("s3").get_object(Bucket="again", Key="k")["Body"].read() == b"hello", "a fresh body per call"


def test_an_aws_error_is_raised_as_botocore_raises_the_operations_error(workmail_sandbox):
    secrets = boto3.client("secretsmanager")
    workmail_sandbox.stand_in(
        "secretsmanager", "get_secret_value", stand_ins.client_error("ResourceNotFoundException", "No such secret.")
    )
    with pytest.raises(secrets.exceptions.ResourceNotFoundException) as info:
        secrets.get_secret_value(SecretId="gone")
    response = info.value.response
    assert response["Error"] == {"Code": "ResourceNotFoundException", "Message": "No such secret."}
    assert response["Message"] == "No such secret.", "a modelled error's message member, as botocore parses it"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert info.value.operation_name == "GetSecretValue"

    def throttled(params):
        raise stand_ins.client_error("ThrottlingException", "Rate exceeded", status=429, RetryAfterSeconds=1)

    workmail_sandbox.stand_in("translate", "TranslateText", throttled)
    with pytest.raises(ClientError) as info:
        _translate()
    assert info.value.response["Error"]["Code"] == "ThrottlingException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert info.value.response["RetryAfterSeconds"] == 1


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda params: 1 / 0, "raised ZeroDivisionError: division by zero"),
        (lambda params: "Bonjour", "returned str, not a dict"),
        (
            lambda params: {"TranslatedText": 1, "SourceLanguageCode": "en", "TargetLanguageCode": "fr"},
            "TranslatedText: must be text",
        ),
    ],
)
def test_a_failing_answer_function_is_a_client_error_naming_the_stand_in(workmail_sandbox, answer, expected):
    stand_in = workmail_sandbox.stand_in("translate", "TranslateText", answer)
    with pytest.raises(ClientError) as info:
        _translate()
    error = info.value.response
    assert error["Error"]["Code"] == stand_ins.STAND_IN_ERROR_CODE
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "translate.TranslateText" in error["Error"]["Message"] and expected in error["Error"]["Message"]
    assert len(stand_in.calls) == 1, "the call is recorded even when the answer fails"


@pytest.mark.parametrize(
    ("service", "operation", "named"),
    [
        ("translat", "translate_text", "no service 'translat' (did you mean 'translate'"),
        ("secrets-manager", "get_secret_value", "did you mean 'secretsmanager'"),
        ("translate", "translate_txt", "no operation 'translate_txt' (did you mean 'translate_text'"),
        ("translate", "TranslateTxt", "did you mean 'TranslateText'"),
    ],
)
def test_unknown_services_and_operations_are_refused_with_close_matches(workmail_sandbox, service, operation, named):
    with pytest.raises(SandboxError) as info:
        workmail_sandbox.stand_in(service, operation, TRANSLATED)
    assert named in str(info.value) and "Fix:" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("answer", "named", "fix"),
    [
        (
            {"Languages": [{"LanguageCode": "fr", "Scor": 0.9}]},
            "Languages[0].Scor: is not part of DominantLanguage (did you mean 'Score'?)",
            "use only the keys of DominantLanguage: LanguageCode, Score",
        ),
        ({"Languages": [{"LanguageCode": "fr", "Score": "high"}]}, "Languages[0].Score: must be a number", "a number"),
        ({"Languages": {"LanguageCode": "fr"}}, "Languages: must be a list", "give Languages a list"),
        (
            {"Language": []},
            "Language: is not part of DetectDominantLanguageResponse (did you mean 'Languages'?)",
            "Languages",
        ),
    ],
)
def test_answers_are_checked_against_the_output_shape(workmail_sandbox, answer, named, fix):
    with pytest.raises(SandboxError) as info:
        workmail_sandbox.stand_in("comprehend", "detect_dominant_language", answer)
    message = str(info.value)
    assert named in message and fix in message.split("Fix:", 1)[1]
    assert "comprehend.DetectDominantLanguage" in message and "\n" not in message


def test_members_aws_always_returns_are_required(workmail_sandbox):
    with pytest.raises(SandboxError, match="TranslateTextResponse lacks SourceLanguageCode, TargetLanguageCode"):
        workmail_sandbox.stand_in("translate", "TranslateText", {"TranslatedText": "Bonjour"})
    with pytest.raises(SandboxError, match="got int"):
        workmail_sandbox.stand_in("translate", "TranslateText", 42)
    with pytest.raises(SandboxError, match="not running"):
        sandbox_module.Sandbox().stand_in("translate", "TranslateText", TRANSLATED)


def test_an_operation_that_answers_an_event_stream_cannot_be_stood_in(workmail_sandbox):
    with pytest.raises(SandboxError, match="InvokeModelWithResponseStream answers an event stream"):
        workmail_sandbox.stand_in("bedrock-runtime", "invoke_model_with_response_stream", {})


def test_an_operation_without_output_answers_an_empty_dict(workmail_sandbox):
    workmail_sandbox.stand_in("sqs", "DeleteQueue", {})
    with pytest.raises(SandboxError, match="DeleteQueue returns nothing"):
        workmail_sandbox.stand_in("sqs", "delete_queue", {"Deleted": True})
    answer = boto3.client("sqs").delete_queue(QueueUrl="https://sqs.us-east-1.amazonaws.com/123456789012/q")
    assert set(answer) == {"ResponseMetadata"}


def test_client_error_refuses_what_is_not_an_error():
    with pytest.raises(SandboxError, match="HTTP error status"):
        stand_ins.client_error("Oops", "fine", status=200)
    with pytest.raises(SandboxError, match="error code and a message"):
        stand_ins.client_error("", "no code")


def test_reset_and_stop_clear_stand_ins_and_their_calls(workmail_sandbox):
    stand_in = workmail_sandbox.stand_in("translate", "TranslateText", TRANSLATED)
    http_stand_in = workmail_sandbox.stand_in_http(HOOK, {"status": 200})
    _translate()
    assert len(workmail_sandbox.stand_in_calls()) == 1
    workmail_sandbox.reset()
    assert not stand_in.active and not http_stand_in.active
    assert workmail_sandbox.stand_ins() == [] and workmail_sandbox.stand_in_calls() == []
    with pytest.raises(ClientError, match="NotImplemented"):
        _translate()
    workmail_sandbox.stand_in("translate", "TranslateText", TRANSLATED)
    workmail_sandbox.stop()
    assert workmail_sandbox.stand_ins() == []


# HTTP endpoints ---------------------------------------------------------------------------------------


def _with_requests(url, body):
    response = requests.post(url, data=body, headers={"X-Team": "mail"})
    return response.status_code, response.content


def _with_urllib(url, body):
    request = urllib.request.Request(url, data=body, headers={"X-Team": "mail"}, method="POST")
    with urllib.request.urlopen(request) as response:
        return response.status, response.read()


def _with_http_client(url, body):
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPSConnection(parts.hostname)
    conn.request("POST", parts.path, body=body, headers={"X-Team": "mail"})
    response = conn.getresponse()
    return response.status, response.read()


def _with_urllib3(url, body):
    response = urllib3.PoolManager().request("POST", url, body=body, headers={"X-Team": "mail"})
    return response.status, response.data


CLIENTS = [_with_requests, _with_urllib, _with_http_client, _with_urllib3]


@pytest.mark.parametrize("send", CLIENTS, ids=lambda f: f.__name__)
def test_an_http_stand_in_answers_every_client(workmail_sandbox, send):
    stand_in = workmail_sandbox.stand_in_http(HOOK, {"status": 201, "json": {"ok": True}, "headers": {"X-Id": "7"}})
    status, body = send(HOOK + "T000/B000", b'{"text": "hi"}')
    assert (status, json.loads(body)) == (201, {"ok": True})
    [call] = stand_in.calls
    assert (call.method, call.url, call.body, call.json()) == (
        "POST",
        HOOK + "T000/B000",
        b'{"text": "hi"}',
        {"text": "hi"},
    )
    assert call.header("x-team") == "mail"
    assert workmail_sandbox.network.attempts == [], "nothing tried to leave the machine"


def test_an_http_answer_function_gets_the_request(workmail_sandbox):
    def answer(request):
        return {
            "status": 200,
            "body": f"{request.method} {request.json()['text']}",
            "headers": {"X-Len": len(request.body)},
        }

    workmail_sandbox.stand_in_http("http://api.example:8080/v1/", answer)
    response = requests.put("http://api.example:8080/v1/echo", json={"text": "hi"})
    assert (response.text, response.headers["X-Len"], response.headers["Content-Type"]) == (
        "PUT hi",
        "14",
        "text/plain; charset=utf-8",
    )
    assert urllib3.request("GET", "http://api.example:8080/v1/?q=1", body=b'{"text": "q"}').data == b"GET q"


def test_an_http_answer_function_that_fails_answers_500_naming_it(workmail_sandbox):
    workmail_sandbox.stand_in_http(HOOK, lambda request: request.json()["missing"])
    response = requests.post(HOOK + "x", json={})
    assert response.status_code == 500
    assert f"HTTP stand-in {HOOK}" in response.text and "KeyError" in response.text
    workmail_sandbox.stand_in_http(HOOK, lambda request: {"stauts": 200})
    assert "unknown key 'stauts' in the answer (did you mean 'status'?)" in requests.get(HOOK).text


def test_the_longest_prefix_wins(workmail_sandbox):
    general = workmail_sandbox.stand_in_http("https://api.example/", {"body": "general"})
    special = workmail_sandbox.stand_in_http("https://api.example/v2/special", {"body": "special"})
    assert requests.get("https://api.example/v2/special/1").text == "special"
    assert requests.get("https://api.example/v2/other").text == "general"
    assert (len(general.calls), len(special.calls)) == (1, 1)


@pytest.mark.parametrize(
    ("send", "error"),
    [
        (_with_requests, requests.exceptions.ConnectionError),
        (_with_urllib, urllib.error.URLError),
        (_with_http_client, NetworkBlockedError),
        (_with_urllib3, urllib3.exceptions.MaxRetryError),
    ],
    ids=["requests", "urllib", "http.client", "urllib3"],
)
def test_an_unmatched_url_of_a_stand_in_host_is_refused_naming_the_prefixes(workmail_sandbox, send, error):
    workmail_sandbox.stand_in_http(HOOK, {"status": 200})
    with pytest.raises(error) as info:
        send("https://hooks.slack.example/elsewhere", b"")
    assert "its host has HTTP stand-ins, but none for this URL" in str(info.value)
    assert f"stand-ins: {HOOK}" in str(info.value)
    assert [a.target for a in workmail_sandbox.network.attempts] == ["https://hooks.slack.example/elsewhere"]


@pytest.mark.parametrize("send", CLIENTS, ids=lambda f: f.__name__)
def test_other_hosts_still_meet_the_network_guard(workmail_sandbox, send):
    workmail_sandbox.stand_in_http(HOOK, {"status": 200})
    with pytest.raises(Exception) as info:  # noqa: B017 - each client wraps the guard's refusal its own way
        send("https://example.com/services/", b"")
    assert "The sandbox refused a network" in str(info.value)
    assert any("example.com" in a.target for a in workmail_sandbox.network.attempts)


def test_moto_still_answers_boto3_and_requests_to_aws_urls(workmail_sandbox):
    workmail_sandbox.stand_in_http(HOOK, {"status": 200})
    answer = requests.get("https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15")
    assert answer.status_code == 200 and "<Account>123456789012</Account>" in answer.text, "moto's responses mock"
    s3 = workmail_sandbox.client("s3")
    s3.create_bucket(Bucket="still-moto")
    assert s3.list_buckets()["Buckets"][0]["Name"] == "still-moto"
    assert workmail_sandbox.network.attempts == []


@pytest.mark.parametrize(
    ("prefix", "answer", "named"),
    [
        ("hooks.slack.example/services/", {"status": 200}, "not an http:// or https:// URL with a host"),
        ("ftp://files.example/", {"status": 200}, "not an http:// or https:// URL"),
        (HOOK, {"status": 200, "jsno": {}}, "unknown key 'jsno' in the answer (did you mean 'json'?)"),
        (HOOK, {"status": 200, "json": {}, "body": ""}, "both json and body"),
        (HOOK, {"status": 99}, "status must be an HTTP status code"),
        (HOOK, {"headers": {"X-A": None}}, "header 'X-A' must have a text value"),
        (HOOK, "OK", "the answer must be a dict"),
    ],
)
def test_http_stand_ins_are_checked_when_made(workmail_sandbox, prefix, answer, named):
    with pytest.raises(SandboxError) as info:
        workmail_sandbox.stand_in_http(prefix, answer)
    assert named in str(info.value) and "Fix:" in str(info.value) and "\n" not in str(info.value)


def test_removing_the_last_http_stand_in_puts_every_interception_back(workmail_sandbox):
    from urllib3.connectionpool import HTTPConnectionPool

    def hooks():
        return (
            requests.adapters.HTTPAdapter.send,
            vars(HTTPConnectionPool)["urlopen"],
            vars(http.client.HTTPConnection)["connect"],
            vars(http.client.HTTPSConnection)["connect"],
        )

    before = hooks()
    first = workmail_sandbox.stand_in_http(HOOK, {"status": 204})
    second = workmail_sandbox.stand_in_http("https://other.example/", {"status": 204})
    during = hooks()
    assert all(a is not b for a, b in zip(before, during)), "each client library is intercepted"
    first.remove()
    assert not first.active and hooks() == during, "another stand-in still answers"
    second.remove()
    assert hooks() == before
    with pytest.raises(requests.exceptions.ConnectionError, match="The sandbox refused a network"):
        requests.get(HOOK)  # no stand-in left: the guard again
    workmail_sandbox.stand_in_http(HOOK, {"status": 204})
    workmail_sandbox.stop()
    assert hooks()[1:] == before[1:]
    assert requests.adapters.HTTPAdapter.send is responses._real_send, "moto's mock and the kit's are both gone"


def test_stand_in_calls_lists_aws_and_http_calls_in_order(workmail_sandbox):
    translate = workmail_sandbox.stand_in("translate", "TranslateText", TRANSLATED)
    hook = workmail_sandbox.stand_in_http(HOOK, {"status": 200})
    requests.post(HOOK + "a", data=b"1")
    _translate()
    requests.post(HOOK + "b", data=b"2")
    calls = workmail_sandbox.stand_in_calls()
    assert [c.target for c in calls] == [HOOK, "translate.TranslateText", HOOK]
    assert [c.stand_in for c in calls] == [hook, translate, hook]
    assert calls[1].request == TRANSLATE_PARAMS and calls[2].request.body == b"2"
    assert workmail_sandbox.stand_ins() == [translate, hook]


# Function code ------------------------------------------------------------------------------------------

FUNCTION = """
import json
import urllib.request

import boto3
import requests

translate = boto3.client("translate")  # module level, as AWS samples write it


def lambda_handler(event, context):
    text = translate.translate_text(Text=event["text"], SourceLanguageCode="en", TargetLanguageCode="fr")
    posted = requests.post(event["hook"] + "requests", json={"text": text["TranslatedText"]}, timeout=5)
    request = urllib.request.Request(event["hook"] + "urllib", data=json.dumps({"n": 2}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        second = json.load(answer)
    try:
        boto3.client("comprehend").detect_dominant_language(Text=event["text"])
    except Exception as error:
        failed = error.response["Error"]["Code"]
    return {"translated": text["TranslatedText"], "first": posted.json(), "second": second, "failed": failed}
"""


def test_a_deployed_function_calls_aws_and_http_stand_ins(workmail_sandbox):
    deploy_handler(FUNCTION, name="stand-in-user")
    workmail_sandbox.client("lambda").invoke(FunctionName="stand-in-user", Payload=b"{}")  # warm: client made
    translate = workmail_sandbox.stand_in(
        "translate", "translate_text", lambda p: {**TRANSLATED, "TranslatedText": p["Text"][::-1]}
    )
    hook = workmail_sandbox.stand_in_http(HOOK, lambda request: {"status": 200, "json": {"got": request.json()}})
    workmail_sandbox.stand_in("comprehend", "DetectDominantLanguage", lambda p: {}["boom"])
    response = workmail_sandbox.client("lambda").invoke(
        FunctionName="stand-in-user", Payload=json.dumps({"text": "Hello", "hook": HOOK})
    )
    assert "FunctionError" not in response, response["Payload"].read()
    assert json.loads(response["Payload"].read()) == {
        "translated": "olleH",
        "first": {"got": {"text": "olleH"}},
        "second": {"got": {"n": 2}},
        "failed": "StandInError",
    }
    assert translate.calls == [{"Text": "Hello", "SourceLanguageCode": "en", "TargetLanguageCode": "fr"}]
    assert [c.url for c in hook.calls] == [HOOK + "requests", HOOK + "urllib"]
    assert workmail_sandbox.network.attempts == []


# Declaration files --------------------------------------------------------------------------------------

YAML_FILE = f"""
stand_ins:
  - service: translate
    operation: TranslateText
    answer:
      TranslatedText: Bonjour
      SourceLanguageCode: en
      TargetLanguageCode: fr
  - service: secretsmanager
    operation: get_secret_value
    error: {{code: ResourceNotFoundException, message: "No such secret.", status: 400}}
http:
  - url: {HOOK}
    status: 200
    json: {{ok: true}}
"""


def test_a_yaml_file_declares_aws_and_http_stand_ins(workmail_sandbox, tmp_path):
    path = tmp_path / "stand-ins.yaml"
    path.write_text(YAML_FILE, encoding="utf-8")
    made = stand_ins.load_stand_ins(path, workmail_sandbox)
    assert [s.target for s in made] == ["translate.TranslateText", "secretsmanager.GetSecretValue", HOOK]
    assert _translate()["TranslatedText"] == "Bonjour"
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        boto3.client("secretsmanager").get_secret_value(SecretId="x")
    assert requests.post(HOOK + "x").json() == {"ok": True}


def test_a_python_file_declares_stand_ins(workmail_sandbox, tmp_path):
    path = tmp_path / "stand_ins.py"
    path.write_text(
        "def stand_ins(sandbox):\n"
        "    sandbox.stand_in('translate', 'translate_text', lambda p: {'TranslatedText': p['Text'].upper(),\n"
        "                     'SourceLanguageCode': 'en', 'TargetLanguageCode': 'fr'})\n"
        f"    sandbox.stand_in_http({HOOK!r}, lambda request: {{'status': 202}})\n",
        encoding="utf-8",
    )
    made = stand_ins.load_stand_ins(str(path), workmail_sandbox)
    assert [s.target for s in made] == ["translate.TranslateText", HOOK]
    assert _translate()["TranslatedText"] == "HELLO"
    assert requests.get(HOOK).status_code == 202


@pytest.mark.parametrize(
    ("name", "content", "named"),
    [
        ("a.yaml", "stand_in: []\n", "unknown key 'stand_in' (did you mean 'stand_ins'?)"),
        (
            "a.yaml",
            "stand_ins:\n  - service: translate\n    operation: TranslateText\n    anwser: {}\n",
            "stand_ins[0]: unknown key 'anwser' (did you mean 'answer'?)",
        ),
        (
            "a.yaml",
            "stand_ins:\n  - {service: translate, operation: TranslateText, answer: {Text: x}}\n",
            "stand_ins[0]: The translate.TranslateText stand-in's answer: Text: is not part of TranslateTextResponse",
        ),
        (
            "a.yaml",
            "stand_ins:\n  - {service: transalte, operation: TranslateText, answer: {}}\n",
            "stand_ins[0]: botocore",
        ),
        (
            "a.yaml",
            "stand_ins:\n  - {service: translate, operation: TranslateText}\n",
            "stand_ins[0]: give either answer or error",
        ),
        (
            "a.yaml",
            "http:\n  - {url: 'https://ok.example/', status: 200}\n  - {url: 'nope', status: 200}\n",
            "http[1]: 'nope' is not an http:// or https:// URL",
        ),
        ("a.yaml", "a: &x [1, 2]\nb: *x\n", "YAML anchors and aliases"),
        ("a.yaml", "stand_ins: [\n", "not valid YAML"),
        ("a.yaml", "# nothing\n", "declares no stand-ins"),
        ("a.yaml", "[1" + ", [1" * 40 + "]" * 41 + "\n", "nests more than 32 levels"),
        ("a.json", "{}", "stand-in files are .yaml, .yml or .py"),
        ("a.py", "x = 1\n", "defines no function stand_ins(sandbox)"),
        ("a.py", "def stand_ins(sandbox)\n", "invalid Python (line 1"),
        ("a.py", "raise RuntimeError('at import')\n", "running the file raised RuntimeError: at import"),
        (
            "a.py",
            "def stand_ins(sandbox):\n    sandbox.stand_in('translate', 'translate_text', {'Bad': 1})\n",
            "stand_ins(sandbox): The translate.TranslateText stand-in's answer: Bad: is not part of",
        ),
    ],
)
def test_a_bad_declaration_file_is_one_line_naming_the_file_entry_and_fix(
    workmail_sandbox, tmp_path, name, content, named
):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SandboxError) as info:
        stand_ins.load_stand_ins(path, workmail_sandbox)
    message = str(info.value)
    assert message.startswith(str(path)) and named in message, message
    assert "Fix:" in message and "\n" not in message


def test_a_file_with_an_error_makes_no_stand_ins(workmail_sandbox, tmp_path):
    yaml_file = tmp_path / "half.yaml"
    yaml_file.write_text(YAML_FILE + "  - {url: 'https://second.example/', status: 1000}\n", encoding="utf-8")
    with pytest.raises(SandboxError, match=r"http\[1\]: status must be"):
        stand_ins.load_stand_ins(yaml_file, workmail_sandbox)
    python_file = tmp_path / "half.py"
    python_file.write_text(
        f"def stand_ins(sandbox):\n    sandbox.stand_in_http({HOOK!r}, {{'status': 200}})\n    raise ValueError('late')\n",
        encoding="utf-8",
    )
    with pytest.raises(SandboxError, match="stand_ins\\(sandbox\\) raised ValueError: late"):
        stand_ins.load_stand_ins(python_file, workmail_sandbox)
    assert workmail_sandbox.stand_ins() == []


def test_declaration_files_are_read_within_bounds(workmail_sandbox, tmp_path):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as handle:
        handle.truncate(stand_ins.MAX_STAND_IN_FILE_BYTES + 1)
    with pytest.raises(SandboxError, match="over the 1,048,576-byte limit"):
        stand_ins.load_stand_ins(big, workmail_sandbox)
    folder = tmp_path / "folder.yaml"
    os.mkdir(folder)
    with pytest.raises(SandboxError, match="not a regular file"):
        stand_ins.load_stand_ins(folder, workmail_sandbox)
    with pytest.raises(SandboxError, match="no such file"):
        stand_ins.load_stand_ins(tmp_path / "missing.yaml", workmail_sandbox)
