"""Translate the subject of incoming mail: "Lieferung KW 47" becomes "[de] Delivery week 47".

Attach this function to a **synchronous inbound** Run Lambda email flow rule. For each
message it asks Amazon Translate for the subject in TARGET_LANGUAGE (source language
"auto": Translate detects it with Amazon Comprehend). When the subject is in another
language, the function rewrites the message (GetRawMessageContent, edit, S3,
PutRawMessageContent): the translation becomes the Subject, prefixed by the source language,
and the original subject is kept in an X-Original-Subject header.

Translation is a convenience: when Translate fails (throttling, an unsupported language,
no access), the message is delivered unchanged. The function answers DEFAULT for every
recipient in every case.

Environment variables (set in template.yaml):
    TARGET_LANGUAGE           e.g. "en"
    UPDATED_EMAIL_S3_BUCKET   where the edited copy is stored; its bucket policy lets WorkMail read it
"""

import email
import email.policy
import logging
import os
import uuid

import boto3
from botocore.exceptions import ClientError

logger = logging.getLogger()
logger.setLevel(logging.INFO)

workmail_message_flow = boto3.client("workmailmessageflow")
s3 = boto3.client("s3")
translate = boto3.client("translate")

DEFAULT_FOR_EVERYONE = {"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True}]}
ORIGINAL_SUBJECT_HEADER = "X-Original-Subject"


def lambda_handler(event, context):
    target = os.environ["TARGET_LANGUAGE"]
    subject = event.get("subject") or ""
    message_id = event["messageId"]
    if event.get("flowDirection") != "INBOUND" or not subject.strip():
        return DEFAULT_FOR_EVERYONE

    try:
        result = translate.translate_text(Text=subject, SourceLanguageCode="auto", TargetLanguageCode=target)
    except ClientError as error:
        logger.warning(
            "Translate failed for message %s (%s: %s): subject left as it is",
            message_id,
            error.response["Error"]["Code"],
            error.response["Error"].get("Message", ""),
        )
        return DEFAULT_FOR_EVERYONE

    source = result["SourceLanguageCode"]
    if source == target:
        logger.info("Message %s: subject already in %s", message_id, target)
        return DEFAULT_FOR_EVERYONE
    replace_subject(message_id, f"[{source}] {result['TranslatedText']}")
    return DEFAULT_FOR_EVERYONE


def replace_subject(message_id, new_subject):
    response = workmail_message_flow.get_raw_message_content(messageId=message_id)
    message = email.message_from_bytes(response["messageContent"].read(), policy=email.policy.default)
    if ORIGINAL_SUBJECT_HEADER in message:
        # A retry of the same invocation: the first try already replaced the message.
        logger.info("Message %s already translated", message_id)
        return
    original = str(message.get("Subject", ""))
    message[ORIGINAL_SUBJECT_HEADER] = original
    if "Subject" in message:
        message.replace_header("Subject", new_subject)
    else:
        message["Subject"] = new_subject

    bucket = os.environ["UPDATED_EMAIL_S3_BUCKET"]
    key = str(uuid.uuid4())
    s3.put_object(Bucket=bucket, Key=key, Body=message.as_bytes(policy=email.policy.SMTP))
    try:
        workmail_message_flow.put_raw_message_content(
            messageId=message_id, content={"s3Reference": {"bucket": bucket, "key": key}}
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "MessageFrozen":
            raise
        logger.info("Message %s is frozen (redirected): delivered untranslated", message_id)
        return
    logger.info("Message %s: subject %r translated to %r", message_id, original, new_subject)
