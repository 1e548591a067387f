"""Workshop exercise 1 ported to Amazon SES receiving: tag mail from outside with [EXTERNAL].

Receipt rule: an S3 action (the message stored at OBJECT_KEY_PREFIX + the SES message id in
MAIL_BUCKET), then this function (Lambda action, RequestResponse).

What changed from the WorkMail function (../workmail/tag_external.py): SES cannot change a message
in flight (there is no PutRawMessageContent); the S3 action has stored it before the function runs, so
the port rewrites the stored object in place, and whatever reads the bucket delivers the tagged copy.
The sender is the event's ``mail.source`` (the envelope MAIL FROM), not ``envelope.mailFrom``.
Redirected mail is tagged too: SES has no "frozen" message.
"""

import os
from email import message_from_bytes, policy

import boto3

ORG_DOMAINS = ("example.com", "sales.example.com")
TAG = "[EXTERNAL]"
CONTINUE = {"disposition": "CONTINUE"}


def is_external(address):
    return address.lower().rpartition("@")[2] not in ORG_DOMAINS


def lambda_handler(event, context):
    mail = event["Records"][0]["ses"]["mail"]
    if not is_external(mail["source"]):
        return CONTINUE
    bucket = os.environ["MAIL_BUCKET"]
    key = os.environ.get("OBJECT_KEY_PREFIX", "") + mail["messageId"]
    s3 = boto3.client("s3")
    raw = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    message = message_from_bytes(raw, policy=policy.default)
    subject = message["Subject"] or ""
    if TAG.lower() in subject.lower():  # a reply to tagged mail, or a second run
        return CONTINUE
    del message["Subject"]
    message["Subject"] = f"{TAG} {subject}"
    s3.put_object(Bucket=bucket, Key=key, Body=message.as_bytes(policy=policy.SMTP))
    return CONTINUE
