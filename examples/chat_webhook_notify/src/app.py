"""Post a chat notification ("New mail for alice@example.com from ...: <subject>") for each message.

Attach this function to an **asynchronous** inbound Run Lambda email flow rule whose
destination is the addresses to watch (a shared mailbox, a team). An asynchronous rule
never changes delivery: the function only tells the channel, and needs nothing but the
event (no Message Flow call).

The channel's incoming-webhook URL is a credential, so it lives in Secrets Manager; the
function reads it once per execution environment and posts a JSON body {"text": ...},
the format Slack, Mattermost and Microsoft Teams incoming webhooks accept.

A failed post raises: Lambda retries an asynchronous invocation twice.

Environment variables (set in template.yaml):
    WEBHOOK_SECRET_ARN   the secret; its SecretString is {"webhook_url": "https://..."}
"""

import json
import logging
import os
import urllib.error
import urllib.request

import boto3
from botocore.exceptions import ClientError

logger = logging.getLogger()
logger.setLevel(logging.INFO)

secrets = boto3.client("secretsmanager")
_webhook_url = None


def webhook_url():
    global _webhook_url
    if _webhook_url is None:
        try:
            secret = secrets.get_secret_value(SecretId=os.environ["WEBHOOK_SECRET_ARN"])
        except ClientError as error:
            logger.error("Cannot read the webhook secret: %s", error.response["Error"]["Code"])
            raise
        _webhook_url = json.loads(secret["SecretString"])["webhook_url"]
    return _webhook_url


def lambda_handler(event, context):
    recipients = ", ".join(r["address"] for r in event["envelope"]["recipients"])
    sender = event["envelope"]["mailFrom"]["address"]
    subject = event.get("subject") or "(no subject)"
    text = f"New mail for {recipients} from {sender}: {subject}"

    request = urllib.request.Request(
        webhook_url(),
        data=json.dumps({"text": text}).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        logger.error("The chat webhook answered %s for message %s", error.code, event["messageId"])
        raise
    except urllib.error.URLError as error:
        logger.error("The chat webhook cannot be reached for message %s: %s", event["messageId"], error.reason)
        raise
    logger.info("Posted to chat (HTTP %s): %s", status, text)
    return {"posted": True}
