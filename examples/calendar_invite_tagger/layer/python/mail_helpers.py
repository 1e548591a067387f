"""Helpers shared by the team's WorkMail functions (the MailHelpersLayer layer, imported from /opt/python).

Nothing here knows about one function's rules: finding MIME parts, editing the subject,
and the S3 + PutRawMessageContent step every function that rewrites mail needs.
https://docs.aws.amazon.com/workmail/latest/adminguide/update-with-lambda.html
"""

import email
import email.policy
import logging
import uuid

from botocore.exceptions import ClientError

logger = logging.getLogger(__name__)

CALENDAR_TYPES = ("text/calendar", "application/ics")


def read_message(message_flow, message_id):
    """The message in transit, parsed (GetRawMessageContent)."""
    response = message_flow.get_raw_message_content(messageId=message_id)
    return email.message_from_bytes(response["messageContent"].read(), policy=email.policy.default)


def calendar_data(message):
    """The bytes of the first calendar part: an inline text/calendar part, else an .ics attachment."""
    for part in message.walk():
        if part.get_content_type() in CALENDAR_TYPES:
            return part.get_payload(decode=True)
    return None


def tag_subject(message, tag):
    """Prefix the Subject with ``tag`` unless it already starts with it; True when it changed."""
    subject = str(message.get("Subject", ""))
    if subject.startswith(tag):
        return False
    tagged = f"{tag} {subject}" if subject else tag
    if "Subject" in message:
        message.replace_header("Subject", tagged)
    else:
        message["Subject"] = tagged
    return True


def replace_message(message_flow, s3, bucket, message_id, message):
    """Store the edited message in S3 and ask WorkMail to deliver it instead; False when the message is frozen."""
    key = str(uuid.uuid4())  # Message Flow keys allow only letters, digits, "-" and "/"
    s3.put_object(Bucket=bucket, Key=key, Body=message.as_bytes(policy=email.policy.SMTP))
    try:
        message_flow.put_raw_message_content(
            messageId=message_id, content={"s3Reference": {"bucket": bucket, "key": key}}
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "MessageFrozen":
            raise
        logger.info("Message %s is frozen (redirected): delivered unchanged", message_id)
        return False
    return True
