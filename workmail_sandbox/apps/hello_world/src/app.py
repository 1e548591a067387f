"""Hello world for Amazon WorkMail "Run Lambda" email flow rules.

workmail-sandbox's own hello-world function. It behaves like the public
``workmail-hello-world-python`` application:

1. logs the message id, the flow direction, the envelope sender and the subject;
2. fetches the whole MIME message with the Message Flow API (GetRawMessageContent);
3. tags a copy's subject as ``[Hello World!] <subject>``;
4. stores that copy in the bucket named by ``UPDATED_EMAIL_S3_BUCKET`` under a
   random UUID key (Message Flow keys allow only letters, digits, ``-`` and ``/``);
5. only when ``UPDATE_MESSAGE`` is ``"true"``, asks WorkMail to deliver the copy
   instead of the original (PutRawMessageContent). That has an effect only when the
   function runs from a *synchronous* rule;
6. answers DEFAULT for every recipient. WorkMail ignores the answer of an
   asynchronous rule.

The event it receives looks like this (``sender`` is present only when someone sends
on behalf of another user)::

    {
        "summaryVersion": "2019-07-28",
        "envelope": {
            "mailFrom": {"address": "from@example.com"},
            "recipients": [{"address": "recipient1@example.com"}]
        },
        "sender": {"address": "sender@example.com"},
        "subject": "Hello From Amazon WorkMail!",
        "messageId": "00000000-0000-0000-0000-000000000000",
        "invocationId": "00000000000000000000000000000000",
        "flowDirection": "INBOUND",
        "truncated": false
    }
"""

from __future__ import annotations

import email
import email.policy
import logging
import os
import uuid

import boto3
from botocore.exceptions import ClientError

logger = logging.getLogger("hello_world")
logger.setLevel(logging.INFO)

# Made once per execution environment and reused by every invocation. No region is
# given: Lambda sets AWS_REGION, so the clients talk to the function's own region,
# which must be the WorkMail organization's region.
workmail_message_flow = boto3.client("workmailmessageflow")
s3 = boto3.client("s3")

SUBJECT_TAG = "[Hello World!]"


def lambda_handler(event, context):
    """Log the message, store a tagged copy in S3, optionally replace the message."""
    message_id = event["messageId"]
    sender = event.get("envelope", {}).get("mailFrom", {}).get("address")
    logger.info(
        "Message %s, direction %s, envelope sender %s, subject %r",
        message_id,
        event.get("flowDirection"),
        sender,
        event.get("subject"),
    )

    try:
        response = workmail_message_flow.get_raw_message_content(messageId=message_id)
        message = email.message_from_bytes(response["messageContent"].read(), policy=email.policy.default)

        subject = message.get("Subject", "")
        if "Subject" in message:
            message.replace_header("Subject", f"{SUBJECT_TAG} {subject}")
        else:
            message["Subject"] = SUBJECT_TAG

        bucket = os.environ["UPDATED_EMAIL_S3_BUCKET"]
        key = str(uuid.uuid4())
        s3.put_object(Bucket=bucket, Key=key, Body=message.as_bytes(policy=email.policy.SMTP))
        s3_reference = {"bucket": bucket, "key": key}
        logger.info("Stored the tagged copy at s3://%s/%s", bucket, key)

        if os.environ.get("UPDATE_MESSAGE", "false").strip().lower() == "true":
            workmail_message_flow.put_raw_message_content(messageId=message_id, content={"s3Reference": s3_reference})
            logger.info("Asked WorkMail to deliver the tagged copy of message %s", message_id)
        else:
            logger.info("UPDATE_MESSAGE is not 'true': message %s goes on unchanged", message_id)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code == "MessageFrozen":
            # For example a redirected email: it cannot be changed, but it is delivered.
            logger.info("Message %s is frozen and cannot be updated; carrying on: %s", message_id, error)
        elif code == "ResourceNotFoundException":
            logger.error(
                "Message %s was not found; message content is no longer accessible after 1 day: %s",
                message_id,
                error,
            )
            raise
        elif code == "InvalidContentLocation":
            logger.error(
                "WorkMail could not read the updated message from S3; the bucket must be in the function's "
                "region and its policy must let workmail.<region>.amazonaws.com read it: %s",
                error,
            )
            raise
        else:
            raise

    return {"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True}]}
