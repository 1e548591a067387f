"""Workshop exercise 3 ported to Amazon SES receiving: mark bulk mail (and spam) for the junk folder.

Receipt rule: an S3 action, then this function (Lambda action, RequestResponse).

What changed from the WorkMail function (../workmail/junk_newsletters.py): SES has no junk folder and
no MOVE_TO_JUNK. The port marks the stored copy with ``X-Spam-Flag: YES``, a header the mailbox's
filter files into junk. The headers come with the event (``mail.headers``), so deciding needs no
read of the body. WorkMail's DEFAULT also sent spam to junk; SES stores spam like any mail, so the
port marks a FAIL spam verdict too.
"""

import os

import boto3

JUNK_HEADER = b"X-Spam-Flag: YES\r\n"
CONTINUE = {"disposition": "CONTINUE"}


def lambda_handler(event, context):
    ses = event["Records"][0]["ses"]
    headers = {h["name"].lower(): h["value"] for h in ses["mail"]["headers"]}
    bulk = "list-unsubscribe" in headers or headers.get("precedence", "").strip().lower() == "bulk"
    spam = ses["receipt"]["spamVerdict"]["status"] == "FAIL"
    if not (bulk or spam):
        return CONTINUE
    bucket = os.environ["MAIL_BUCKET"]
    key = os.environ.get("OBJECT_KEY_PREFIX", "") + ses["mail"]["messageId"]
    s3 = boto3.client("s3")
    raw = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    if not raw.startswith(JUNK_HEADER):
        s3.put_object(Bucket=bucket, Key=key, Body=JUNK_HEADER + raw)
    return CONTINUE
