"""Tag calendar invitations: "Quarterly review" becomes "[Invite] Quarterly review".

Attach this function to a **synchronous inbound** Run Lambda email flow rule. It reads the
message (GetRawMessageContent), finds its calendar part (text/calendar, or an .ics
attachment) and parses it with the icalendar package (requirements.txt). By the
calendar's METHOD (RFC 5546):

* REQUEST (an invitation or an update): Subject tagged "[Invite]";
* CANCEL: Subject tagged "[Cancelled]";
* anything else (REPLY, PUBLISH, COUNTER...), and mail without a calendar: left alone.

A tagged message also gets an X-Calendar-Start header with the event's start (UTC, ISO 8601),
for mail clients' own filters. The message goes back through S3 and PutRawMessageContent
(helpers from the MailHelpersLayer layer). The answer is DEFAULT for every recipient.

Environment variables (set in template.yaml):
    UPDATED_EMAIL_S3_BUCKET   where the edited copy is stored; its bucket policy lets WorkMail read it
"""

import datetime
import logging
import os

import boto3
from icalendar import Calendar
from mail_helpers import calendar_data, read_message, replace_message, tag_subject

logger = logging.getLogger()
logger.setLevel(logging.INFO)

workmail_message_flow = boto3.client("workmailmessageflow")
s3 = boto3.client("s3")

DEFAULT_FOR_EVERYONE = {"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True}]}
TAGS = {"REQUEST": "[Invite]", "CANCEL": "[Cancelled]"}


def lambda_handler(event, context):
    message_id = event["messageId"]
    message = read_message(workmail_message_flow, message_id)
    data = calendar_data(message)
    if data is None:
        logger.info("Message %s has no calendar part", message_id)
        return DEFAULT_FOR_EVERYONE

    try:
        calendar = Calendar.from_ical(data)
    except ValueError as error:
        logger.warning("Message %s: the calendar part cannot be read (%s): left as it is", message_id, error)
        return DEFAULT_FOR_EVERYONE
    method = str(calendar.get("METHOD", "")).upper()
    tag = TAGS.get(method)
    if tag is None:
        logger.info("Message %s: calendar METHOD %s, left as it is", message_id, method or "(none)")
        return DEFAULT_FOR_EVERYONE

    if not tag_subject(message, tag):
        logger.info("Message %s is already tagged", message_id)  # a retry after a replaced message
        return DEFAULT_FOR_EVERYONE
    start = event_start(calendar)
    if start and "X-Calendar-Start" not in message:
        message["X-Calendar-Start"] = start
    if replace_message(workmail_message_flow, s3, os.environ["UPDATED_EMAIL_S3_BUCKET"], message_id, message):
        logger.info("Message %s tagged %s (starts %s)", message_id, tag, start or "unknown")
    return DEFAULT_FOR_EVERYONE


def event_start(calendar):
    """The first VEVENT's DTSTART in UTC as ISO 8601 ("2025-11-24T14:00:00Z"), or None."""
    for component in calendar.walk("VEVENT"):
        start = component.get("DTSTART")
        if start is None:
            return None
        value = start.dt
        if isinstance(value, datetime.datetime):
            if value.tzinfo is not None:
                value = value.astimezone(datetime.UTC)
            return value.strftime("%Y-%m-%dT%H:%M:%SZ" if value.tzinfo else "%Y-%m-%dT%H:%M:%S")
        return value.isoformat()  # an all-day event: a date
    return None
