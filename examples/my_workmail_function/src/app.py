"""Tag mail from outside the organization: its subject becomes "[External] <subject>".

Attach this function to a **synchronous** inbound Run Lambda email flow rule in Amazon
WorkMail. It follows the AWS samples (workmail-update-email, workmail-hello-world-python):

1. GetRawMessageContent: fetch the whole MIME message by the event's messageId;
2. edit the Subject header;
3. store the edited message in S3 (same account and Region as the organization);
4. PutRawMessageContent: ask WorkMail to deliver the edited message instead.

It answers DEFAULT for every recipient: it changes the message, never where it goes.
https://docs.aws.amazon.com/workmail/latest/adminguide/update-with-lambda.html

Environment variables (set in template.yaml):
    INTERNAL_DOMAINS          the organization's mail domains, comma-separated
    UPDATED_EMAIL_S3_BUCKET   where the edited copy is stored; its bucket policy lets WorkMail read it
"""

import email
import email.policy
import logging
import os
import uuid

import boto3
from botocore.exceptions import ClientError

from utils import is_external, parse_domains, tag_subject

logger = logging.getLogger()
logger.setLevel(logging.INFO)

# Created once per execution environment, with no region: Lambda sets AWS_REGION,
# which is the function's Region and must be the WorkMail organization's.
workmail_message_flow = boto3.client("workmailmessageflow")
s3 = boto3.client("s3")

DEFAULT_FOR_EVERYONE = {"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True}]}


def lambda_handler(event, context):
    internal_domains = parse_domains(os.environ["INTERNAL_DOMAINS"])
    sender = event["envelope"]["mailFrom"]["address"]
    message_id = event["messageId"]
    if event.get("flowDirection") == "INBOUND" and is_external(sender, internal_domains):
        tag_message(message_id)
    else:
        logger.info("Message %s from %s is internal or outbound: left as it is", message_id, sender)
    return DEFAULT_FOR_EVERYONE


def tag_message(message_id):
    response = workmail_message_flow.get_raw_message_content(messageId=message_id)
    message = email.message_from_bytes(response["messageContent"].read(), policy=email.policy.default)
    subject = str(message.get("Subject", ""))
    tagged = tag_subject(subject)
    if tagged == subject:
        # WorkMail retries a failed invocation with the same invocationId; if the first try
        # already replaced the message, GetRawMessageContent returns the tagged copy.
        logger.info("Message %s is already tagged", message_id)
        return
    if "Subject" in message:
        message.replace_header("Subject", tagged)
    else:
        message["Subject"] = tagged

    bucket = os.environ["UPDATED_EMAIL_S3_BUCKET"]
    key = str(uuid.uuid4())  # Message Flow keys allow only letters, digits, "-" and "/"
    s3.put_object(Bucket=bucket, Key=key, Body=message.as_bytes(policy=email.policy.SMTP))
    try:
        workmail_message_flow.put_raw_message_content(
            messageId=message_id, content={"s3Reference": {"bucket": bucket, "key": key}}
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "MessageFrozen":
            raise
        # Redirected mail cannot be changed; it is still delivered, untagged.
        logger.info("Message %s is frozen (redirected): delivered without the tag", message_id)
        return
    logger.info("Message %s tagged: %s", message_id, tagged)
