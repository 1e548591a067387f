"""Bounce, or move to the junk folder, mail larger than a size limit.

Attach this function to a **synchronous** Run Lambda email flow rule (inbound, outbound or
both). WorkMail's event has no size, so the function reads the whole message with
GetRawMessageContent and counts its bytes. A message over MAX_SIZE_KB gets OVERSIZE_ACTION
for every recipient; any other message DEFAULT.

MOVE_TO_JUNK is an inbound action only: outbound mail over the limit is bounced.
https://docs.aws.amazon.com/workmail/latest/adminguide/lambda.html#synchronous-schema

Environment variables (set in template.yaml):
    MAX_SIZE_KB       the limit, in KB of 1024 bytes
    OVERSIZE_ACTION   BOUNCE or MOVE_TO_JUNK
    LOG_LEVEL         from the template's Globals
"""

import logging
import os

import boto3
from botocore.exceptions import ClientError

logger = logging.getLogger()
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

workmail_message_flow = boto3.client("workmailmessageflow")

CHUNK = 64 * 1024


def lambda_handler(event, context):
    limit_kb = int(os.environ["MAX_SIZE_KB"])
    action = os.environ["OVERSIZE_ACTION"]
    message_id = event["messageId"]
    try:
        size = message_size(message_id)
    except ClientError as error:
        # The message is gone (or not readable): let WorkMail deliver it as it would without this rule.
        logger.warning("Cannot read message %s (%s): delivered as usual", message_id, error.response["Error"]["Code"])
        return answer("DEFAULT")

    size_kb = size / 1024
    if size_kb <= limit_kb:
        logger.info("Message %s is %.1f KB, within the %d KB limit", message_id, size_kb, limit_kb)
        return answer("DEFAULT")

    if action == "MOVE_TO_JUNK" and event.get("flowDirection") == "OUTBOUND":
        action = "BOUNCE"
    logger.info("Message %s is %.1f KB, over the %d KB limit: %s", message_id, size_kb, limit_kb, action)
    if action == "BOUNCE":
        return answer(
            "BOUNCE",
            {
                "bounceMessage": f"Your message is {size_kb:.1f} KB; this organization accepts messages "
                f"of at most {limit_kb} KB. Please send a link to large files instead."
            },
        )
    return answer(action)


def message_size(message_id):
    """The size of the raw MIME message in bytes, read in chunks (a message may be 25 MB)."""
    response = workmail_message_flow.get_raw_message_content(messageId=message_id)
    body = response["messageContent"]
    size = 0
    for chunk in iter(lambda: body.read(CHUNK), b""):
        size += len(chunk)
    return size


def answer(action_type, parameters=None):
    action = {"type": action_type}
    if parameters:
        action["parameters"] = parameters
    return {"actions": [{"action": action, "allRecipients": True}]}
