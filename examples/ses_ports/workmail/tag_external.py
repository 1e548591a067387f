"""Workshop exercise 1 on WorkMail: tag mail from outside with [EXTERNAL] (synchronous Run Lambda rule).

The original the SES port (../ses/tag_external.py) is compared with. The function reads the message
through the Message Flow API, puts the rewritten copy in ``BUCKET`` and hands it back with
PutRawMessageContent; WorkMail delivers the new content.
"""

import os
import uuid
from email import message_from_bytes, policy

import boto3

ORG_DOMAINS = ("example.com", "sales.example.com")
TAG = "[EXTERNAL]"
DEFAULT = {"actions": [{"allRecipients": True, "action": {"type": "DEFAULT"}}]}


def is_external(address):
    return address.lower().rpartition("@")[2] not in ORG_DOMAINS


def lambda_handler(event, context):
    if not is_external(event["envelope"]["mailFrom"]["address"]):
        return DEFAULT
    flow = boto3.client("workmailmessageflow")
    raw = flow.get_raw_message_content(messageId=event["messageId"])["messageContent"].read()
    message = message_from_bytes(raw, policy=policy.default)
    subject = message["Subject"] or ""
    if TAG.lower() in subject.lower():  # a reply to tagged mail, or a retry
        return DEFAULT
    del message["Subject"]
    message["Subject"] = f"{TAG} {subject}"
    key = str(uuid.uuid4())
    boto3.client("s3").put_object(Bucket=os.environ["BUCKET"], Key=key, Body=message.as_bytes(policy=policy.SMTP))
    try:
        flow.put_raw_message_content(
            messageId=event["messageId"], content={"s3Reference": {"bucket": os.environ["BUCKET"], "key": key}}
        )
    except flow.exceptions.MessageFrozen:  # redirected mail cannot be changed: delivered as it is
        print(f"{event['messageId']} was redirected: delivered unchanged")
    return DEFAULT
