"""SES receiving end to end in the sandbox (workmail_sandbox.ses.receiving; docs/aws-behaviour.md §7).

Set-up with plain boto3 calls (ses, s3, lambda, sns), functions deployed with deploy_handler,
mail received with wms.ses_receive. Each test names the fact it checks.
"""

from __future__ import annotations

import base64
import json

import pytest
from botocore.exceptions import ClientError

import workmail_sandbox as wms
from workmail_sandbox.errors import ConfigurationError
from workmail_sandbox.permissions import ses_bucket_write_decision, ses_invoke_decision
from workmail_sandbox.ses import check_ses_event
from workmail_sandbox.ses.receiving import SesReceiving

RAW = b"From: Ann <ann@sender.example>\r\nTo: bob@example.com\r\nSubject: hello\r\n\r\nthe body\r\n"

RECORDER = '''
import json

def lambda_handler(event, context):
    print("EVENT " + json.dumps(event))
    subject = event["Records"][0]["ses"]["mail"]["commonHeaders"].get("subject", "")
    if subject.startswith("answer "):
        return json.loads(subject[len("answer "):])
    if subject == "boom":
        raise RuntimeError("boom")
    return None
'''

BOUNCER = '''
import boto3

def lambda_handler(event, context):
    ses = event["Records"][0]["ses"]
    boto3.client("ses").send_bounce(
        OriginalMessageId=ses["mail"]["messageId"],
        BounceSender="mailer-daemon@example.com",
        BouncedRecipientInfoList=[{"Recipient": r, "BounceType": "ContentRejected"}
                                  for r in ses["receipt"]["recipients"]],
    )
    return {"disposition": "STOP_RULE_SET"}
'''


@pytest.fixture
def sb(workmail_sandbox):
    workmail_sandbox.client("ses").verify_domain_identity(Domain="example.com")
    return workmail_sandbox


def rule_arn(sb, rule: str, rule_set: str = "main") -> str:
    return f"arn:aws:ses:{sb.region}:{sb.account_id}:receipt-rule-set/{rule_set}:receipt-rule/{rule}"


def bucket(sb, name: str = "inbox", *, rule: str | None = "store", policy: bool = True) -> str:
    s3 = sb.client("s3")
    s3.create_bucket(Bucket=name)
    if policy:
        statement = {"Effect": "Allow", "Principal": {"Service": "ses.amazonaws.com"}, "Action": "s3:PutObject",
                     "Resource": f"arn:aws:s3:::{name}/*",
                     "Condition": {"StringEquals": {"AWS:SourceAccount": sb.account_id,
                                                    "AWS:SourceArn": rule_arn(sb, rule or "store")}}}
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    return name


def function(sb, name: str, source: str = RECORDER, *, rule: str | None = "invoke") -> str:
    arn = wms.deploy_handler(source, name=name)["FunctionArn"]
    if rule is not None:
        sb.client("lambda").add_permission(
            FunctionName=name, StatementId="AllowSES", Action="lambda:InvokeFunction",
            Principal="ses.amazonaws.com", SourceAccount=sb.account_id, SourceArn=rule_arn(sb, rule),
        )
    return arn


def rules(sb, *rule_list: dict, name: str = "main", active: bool = True) -> None:
    ses = sb.client("ses")
    ses.create_receipt_rule_set(RuleSetName=name)
    after = None
    for rule in rule_list:
        ses.create_receipt_rule(RuleSetName=name, Rule={"Enabled": True, **rule}, **({"After": after} if after else {}))
        after = rule["Name"]
    if active:
        ses.set_active_receipt_rule_set(RuleSetName=name)


def events_seen(sb, name: str) -> list[dict]:
    logs = sb.client("logs")
    found: list[dict] = []
    if not logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]:
        return found  # the function never ran
    for stream in logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]:
        for e in logs.get_log_events(logGroupName=f"/aws/lambda/{name}", logStreamName=stream["logStreamName"])[
            "events"
        ]:
            if e["message"].startswith("EVENT "):
                found.append(json.loads(e["message"][len("EVENT "):]))
    return found


def test_s3_then_lambda_stores_the_message_and_the_function_gets_the_documented_event(sb):
    """§7.1/§7.5: an S3 action before the Lambda action stores the message under prefix + SES message id;
    the function gets the SES event, without the body."""
    bucket(sb)
    arn = function(sb, "ses-inbound", rule="store")
    rules(sb, {"Name": "store", "Recipients": ["example.com"], "Actions": [
        {"S3Action": {"BucketName": "inbox", "ObjectKeyPrefix": "mail/"}},
        {"LambdaAction": {"FunctionArn": arn}},
    ]})
    receipt = wms.ses_receive(RAW)
    assert receipt.outcome("bob@example.com") == "stored"
    body = sb.client("s3").get_object(Bucket="inbox", Key=f"mail/{receipt.message_id}")["Body"].read()
    assert body == RAW
    [seen] = events_seen(sb, "ses-inbound")
    assert seen == receipt.event and check_ses_event(seen) == []
    ses = seen["Records"][0]["ses"]
    assert ses["mail"]["messageId"] == receipt.message_id and ses["mail"]["source"] == "ann@sender.example"
    assert ses["receipt"]["recipients"] == ["bob@example.com"]
    assert ses["receipt"]["action"] == {"type": "Lambda", "functionArn": arn, "invocationType": "Event"}
    assert "the body" not in json.dumps(seen)
    table = receipt.table()
    assert list(table["action"]) == ["S3", "Lambda"] and list(table["outcome"]) == ["stored", "invoked"]
    assert "bob@example.com: stored" in receipt.summary() and "1 stored" in repr(receipt)


@pytest.mark.parametrize(("disposition", "ran"), [
    ("STOP_RULE", ["first:Lambda:invoked", "first:AddHeader:skipped", "second:AddHeader:header added"]),
    ("STOP_RULE_SET", ["first:Lambda:invoked", "first:AddHeader:skipped"]),
    ("CONTINUE", ["first:Lambda:invoked", "first:AddHeader:header added", "second:AddHeader:header added"]),
    ("whatever", ["first:Lambda:invoked", "first:AddHeader:header added", "second:AddHeader:header added"]),
])
def test_request_response_dispositions(sb, disposition, ran):
    """§7.1: STOP_RULE skips the rule's other actions, STOP_RULE_SET every later action and rule,
    CONTINUE (or anything invalid) goes on."""
    arn = function(sb, "ses-decider", rule="first")
    rules(sb,
          {"Name": "first", "Actions": [{"LambdaAction": {"FunctionArn": arn, "InvocationType": "RequestResponse"}},
                                        {"AddHeaderAction": {"HeaderName": "X-First", "HeaderValue": "1"}}]},
          {"Name": "second", "Actions": [{"AddHeaderAction": {"HeaderName": "X-Second", "HeaderValue": "2"}}]})
    message = RAW.replace(b"hello", b"answer " + json.dumps({"disposition": disposition}).encode())
    receipt = wms.ses_receive(message)
    assert [f"{a.rule}:{a.type}:{a.outcome}" for a in receipt.actions] == ran
    assert receipt.actions[0].disposition == (disposition if disposition != "whatever" else "CONTINUE")
    assert receipt.event["Records"][0]["ses"]["receipt"]["action"]["invocationType"] == "RequestResponse"


def test_an_event_invocation_ignores_the_answer_and_a_failure_does_not_stop_the_rule_set(sb):
    """§7.1: Event invocations are asynchronous; their result does not change the mail flow."""
    arn = function(sb, "ses-async", rule="first")
    rules(sb, {"Name": "first", "Actions": [{"LambdaAction": {"FunctionArn": arn}},
                                           {"AddHeaderAction": {"HeaderName": "X-After", "HeaderValue": "yes"}}]})
    stop = wms.ses_receive(RAW.replace(b"hello", b'answer {"disposition": "STOP_RULE_SET"}'))
    assert [a.outcome for a in stop.actions] == ["invoked", "header added"]
    failed = wms.ses_receive(RAW.replace(b"hello", b"boom"))
    assert [a.outcome for a in failed.actions] == ["failed", "header added"]
    assert "SES is not told" in failed.actions[0].detail


def test_a_failed_request_response_counts_as_the_configured_disposition(sb):
    """Kit choice (§7.7): a RequestResponse error counts as CONTINUE unless sync_error_disposition says otherwise."""
    arn = function(sb, "ses-sync-error", rule="first")
    rules(sb, {"Name": "first", "Actions": [{"LambdaAction": {"FunctionArn": arn, "InvocationType": "RequestResponse"}},
                                           {"AddHeaderAction": {"HeaderName": "X-After", "HeaderValue": "yes"}}]})
    message = RAW.replace(b"hello", b"boom")
    assert [a.outcome for a in wms.ses_receive(message).actions] == ["failed", "header added"]
    stopped = wms.ses_receive(message, sync_error_disposition="STOP_RULE_SET")
    assert [a.outcome for a in stopped.actions] == ["failed", "skipped"]
    with pytest.raises(ConfigurationError, match="sync_error_disposition='STOP' is not one of"):
        wms.ses_receive(message, sync_error_disposition="STOP")


def test_without_permission_ses_may_not_invoke_the_function(sb):
    """§7.4: the resource policy must allow ses.amazonaws.com lambda:InvokeFunction for this rule."""
    arn = function(sb, "ses-unpermitted", rule=None)
    rules(sb, {"Name": "invoke", "Actions": [{"LambdaAction": {"FunctionArn": arn}}]})
    receipt = wms.ses_receive(RAW)
    assert receipt.actions[0].outcome == "denied"
    assert "no resource-based policy" in receipt.actions[0].detail and "add_permission" in receipt.actions[0].detail
    assert events_seen(sb, "ses-unpermitted") == []


def test_a_permission_for_another_rule_does_not_let_ses_invoke(sb):
    """§7.4: the aws:SourceArn condition names the receipt rule; another rule's invocation is refused."""
    arn = function(sb, "ses-other-rule", rule="elsewhere")
    rules(sb, {"Name": "invoke", "Actions": [{"LambdaAction": {"FunctionArn": arn}}]})
    action = wms.ses_receive(RAW).actions[0]
    assert action.outcome == "denied" and "receipt-rule/invoke" in action.detail


def test_without_a_bucket_policy_the_s3_action_fails(sb):
    """§7.4/§7.5: SES needs a bucket policy allowing ses.amazonaws.com s3:PutObject; without it nothing is stored."""
    bucket(sb, policy=False)
    rules(sb, {"Name": "store", "Actions": [{"S3Action": {"BucketName": "inbox"}}]})
    receipt = wms.ses_receive(RAW)
    assert receipt.actions[0].outcome == "denied" and "has no bucket policy" in receipt.actions[0].detail
    assert sb.client("s3").list_objects_v2(Bucket="inbox").get("KeyCount") == 0
    assert receipt.outcome("bob@example.com") == "accepted"


def test_a_bucket_policy_for_another_rule_or_account_does_not_let_ses_write(sb):
    """§7.4: the bucket policy's AWS:SourceArn names the rule and AWS:SourceAccount the account."""
    bucket(sb, rule="another-rule")
    rules(sb, {"Name": "store", "Actions": [{"S3Action": {"BucketName": "inbox"}}]})
    action = wms.ses_receive(RAW).actions[0]
    assert action.outcome == "denied" and "does not let ses.amazonaws.com call s3:PutObject" in action.detail
    policy = sb.client("s3").get_bucket_policy(Bucket="inbox")["Policy"].replace("another-rule", "store")
    assert ses_bucket_write_decision("inbox", policy, key="k", source_arn=rule_arn(sb, "store"),
                                     account=sb.account_id).allowed
    assert not ses_bucket_write_decision("inbox", policy, key="k", source_arn=rule_arn(sb, "store"),
                                         account="999999999999").allowed


def test_recipient_conditions_pick_the_rules(sb):
    """§7.3: rules run in order; each runs for the recipients one of its conditions matches."""
    sb.client("ses").verify_domain_identity(Domain="example.org")
    rules(sb,
          {"Name": "sales", "Recipients": ["sales@example.com"],
           "Actions": [{"AddHeaderAction": {"HeaderName": "X-Sales", "HeaderValue": "1"}}]},
          {"Name": "subdomains", "Recipients": [".example.com"],
           "Actions": [{"AddHeaderAction": {"HeaderName": "X-Sub", "HeaderValue": "1"}}]},
          {"Name": "org", "Recipients": ["example.org"],
           "Actions": [{"AddHeaderAction": {"HeaderName": "X-Org", "HeaderValue": "1"}}]})
    receipt = wms.ses_receive(RAW, recipients=["sales+eu@example.com", "x@mail.example.com", "y@example.org",
                                               "z@example.com"])
    assert receipt.rules_matched == {"sales+eu@example.com": ["sales"], "x@mail.example.com": ["subdomains"],
                                     "y@example.org": ["org"]}
    assert receipt.outcome("z@example.com") == "rejected"
    assert "no enabled rule" in receipt.reasons["z@example.com"]


def test_rules_are_disabled_unless_enabled_is_true(sb):
    """§7.3: Enabled defaults to false; a disabled rule is skipped."""
    ses = sb.client("ses")
    ses.create_receipt_rule_set(RuleSetName="main")
    ses.create_receipt_rule(RuleSetName="main", Rule={"Name": "off", "Actions": [
        {"AddHeaderAction": {"HeaderName": "X-Off", "HeaderValue": "1"}}]})
    ses.set_active_receipt_rule_set(RuleSetName="main")
    receipt = wms.ses_receive(RAW)
    assert receipt.actions == [] and receipt.outcome("bob@example.com") == "rejected"


def test_only_the_active_rule_set_runs(sb):
    """§7.3: only one rule set is active; with none active SES receives no mail."""
    rules(sb, {"Name": "r", "Actions": [{"AddHeaderAction": {"HeaderName": "X", "HeaderValue": "1"}}]}, active=False)
    receipt = wms.ses_receive(RAW)
    assert receipt.rule_set is None and receipt.outcome("bob@example.com") == "rejected"
    assert "no receipt rule set is active" in receipt.reasons["bob@example.com"]


def test_unverified_domains_are_not_received(sb):
    """§7.3: SES receives mail for verified domain identities only."""
    rules(sb, {"Name": "all", "Actions": [{"AddHeaderAction": {"HeaderName": "X", "HeaderValue": "1"}}]})
    receipt = wms.ses_receive(RAW, recipients=["bob@example.com", "eve@unverified.example"])
    assert receipt.outcome("bob@example.com") == "accepted"
    assert receipt.outcome("eve@unverified.example") == "rejected"


def test_stop_and_bounce_actions(sb):
    """§7.5: Bounce returns a bounce to the sender; Stop ends the rule set."""
    rules(sb,
          {"Name": "bounce", "Recipients": ["gone@example.com"], "Actions": [
              {"BounceAction": {"SmtpReplyCode": "550", "StatusCode": "5.1.1", "Message": "Mailbox does not exist",
                                "Sender": "mailer-daemon@example.com"}},
              {"StopAction": {"Scope": "RuleSet"}}]},
          {"Name": "rest", "Actions": [{"AddHeaderAction": {"HeaderName": "X-Rest", "HeaderValue": "1"}}]})
    receipt = wms.ses_receive(RAW, recipients=["gone@example.com", "bob@example.com"])
    assert receipt.outcome("gone@example.com") == "bounced" and receipt.outcome("bob@example.com") == "accepted"
    [bounce] = receipt.bounces
    assert (bounce.to, bounce.sender, bounce.smtp_reply_code, bounce.status_code) == (
        "ann@sender.example", "mailer-daemon@example.com", "550", "5.1.1")
    assert receipt.rules_matched["gone@example.com"] == ["bounce"]
    assert receipt.rules_matched["bob@example.com"] == ["rest"]
    whole = wms.ses_receive(RAW, recipients=["gone@example.com", "bob@example.com"], stop_scope="message")
    assert "bob@example.com" not in whole.rules_matched


def test_the_function_bounces_with_send_bounce_and_gets_an_aws_shaped_answer(sb):
    """§7.6: the function cannot change the message; it calls ses.send_bounce and stops the rule set."""
    arn = function(sb, "ses-bouncer", BOUNCER, rule="first")
    rules(sb, {"Name": "first", "Actions": [{"LambdaAction": {"FunctionArn": arn, "InvocationType": "RequestResponse"}}]},
          {"Name": "second", "Actions": [{"AddHeaderAction": {"HeaderName": "X", "HeaderValue": "1"}}]})
    receipt = wms.ses_receive(RAW)
    assert receipt.actions[0].invocation.ok, receipt.actions[0].invocation.payload
    assert receipt.actions[0].disposition == "STOP_RULE_SET" and len(receipt.actions) == 1  # rule 2 never ran
    [bounce] = receipt.bounces
    assert bounce.via == "SendBounce" and bounce.recipients == ("bob@example.com",) and bounce.to == "ann@sender.example"
    assert receipt.outcome("bob@example.com") == "bounced"


def test_send_bounce_for_an_unknown_message_is_message_rejected(sb):
    """§7.6: SendBounce answers MessageRejected (its one documented error) for a message SES did not receive."""
    ses = sb.client("ses")
    with pytest.raises(ses.exceptions.MessageRejected, match="is not a message Amazon SES received"):
        ses.send_bounce(OriginalMessageId="nope", BounceSender="mailer-daemon@example.com",
                        BouncedRecipientInfoList=[{"Recipient": "bob@example.com", "BounceType": "DoesNotExist"}])


def test_send_bounce_works_up_to_24_hours_after_receipt(sb):
    """§7.6: SendBounce works on a message up to 24 hours after SES received it; BounceSender must be verified."""
    rules(sb, {"Name": "all", "Actions": [{"AddHeaderAction": {"HeaderName": "X", "HeaderValue": "1"}}]})
    receipt = wms.ses_receive(RAW)
    ses = sb.client("ses")
    info = [{"Recipient": "bob@example.com", "BounceType": "DoesNotExist"}]
    with pytest.raises(ses.exceptions.MessageRejected, match="not verified"):
        ses.send_bounce(OriginalMessageId=receipt.message_id, BounceSender="x@unverified.example",
                        BouncedRecipientInfoList=info)
    assert ses.send_bounce(OriginalMessageId=receipt.message_id, BounceSender="postmaster@example.com",
                           BouncedRecipientInfoList=info)["MessageId"]
    sb.advance_clock(hours=25)
    with pytest.raises(ses.exceptions.MessageRejected, match="more than 24 hours ago"):
        ses.send_bounce(OriginalMessageId=receipt.message_id, BounceSender="postmaster@example.com",
                        BouncedRecipientInfoList=info)


def test_sns_action_publishes_the_whole_message_and_over_150_kb_it_bounces(sb):
    """§7.5: the SNS action publishes the message (UTF-8 or Base64) with a Received notification; over 150 KB bounces."""
    sns, sqs = sb.client("sns"), sb.client("sqs")
    topic = sns.create_topic(Name="incoming")["TopicArn"]
    queue = sqs.create_queue(QueueName="incoming")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    rules(sb, {"Name": "publish", "Actions": [{"SNSAction": {"TopicArn": topic, "Encoding": "Base64"}}]})
    receipt = wms.ses_receive(RAW)
    assert receipt.outcome("bob@example.com") == "published"
    [message] = sqs.receive_message(QueueUrl=queue)["Messages"]
    note = json.loads(message["Body"])
    assert note["notificationType"] == "Received" and base64.b64decode(note["content"]) == RAW
    assert note["receipt"]["action"] == {"type": "SNS", "topicArn": topic, "encoding": "BASE64"}
    big = RAW + b"x" * (150 * 1024)
    assert wms.ses_receive(big).outcome("bob@example.com") == "bounced"


def test_tls_policy_require_bounces_mail_not_received_over_tls(sb):
    """§7.3: TlsPolicy Require bounces a message that did not arrive over TLS."""
    rules(sb, {"Name": "tls", "TlsPolicy": "Require",
               "Actions": [{"AddHeaderAction": {"HeaderName": "X", "HeaderValue": "1"}}]})
    assert wms.ses_receive(RAW).outcome("bob@example.com") == "accepted"
    receipt = wms.ses_receive(RAW, tls=False)
    assert receipt.outcome("bob@example.com") == "bounced" and receipt.bounces[0].via == "TlsPolicy"


def test_a_function_in_another_region_is_refused(sb):
    """§7.4: the function must be in the Region of the SES endpoint that receives the mail."""
    other = f"arn:aws:lambda:eu-west-1:{sb.account_id}:function:far"
    check = ses_invoke_decision(other, source_arn=rule_arn(sb, "invoke"), region=sb.region, account=sb.account_id)
    assert not check.allowed and "must be in the Region of the SES endpoint" in check.reason


def test_quotas_refuse_more_rule_sets_rules_and_actions_with_limit_exceeded(sb):
    """§7.8: 40 rule sets per account, 200 rules per set, 10 actions per rule: LimitExceeded."""
    ses = sb.client("ses")
    for i in range(40):
        ses.create_receipt_rule_set(RuleSetName=f"set{i}")
    with pytest.raises(ses.exceptions.LimitExceededException, match="at most 40 receipt rule sets"):
        ses.create_receipt_rule_set(RuleSetName="one-more")
    header = {"AddHeaderAction": {"HeaderName": "X", "HeaderValue": "1"}}
    with pytest.raises(ses.exceptions.LimitExceededException, match="11 actions"):
        ses.create_receipt_rule(RuleSetName="set0", Rule={"Name": "big", "Actions": [header] * 11})
    ses.create_receipt_rule(RuleSetName="set0", Rule={"Name": "ten", "Actions": [header] * 10})
    for i in range(199):
        ses.create_receipt_rule(RuleSetName="set1", Rule={"Name": f"r{i}"})
    ses.create_receipt_rule(RuleSetName="set1", Rule={"Name": "r199"})
    with pytest.raises(ClientError, match="already holds 200 receipt rules"):
        ses.create_receipt_rule(RuleSetName="set1", Rule={"Name": "r200"})


def test_without_a_running_sandbox_it_says_how_to_start_one():
    with pytest.raises(wms.SandboxError, match="no sandbox is running"):
        SesReceiving()
