"""Workshop exercise 2 ported to Amazon SES receiving: bounce outside mail to finance@example.com.

Receipt rule: an S3 action, then this function (Lambda action, RequestResponse).

What changed from the WorkMail function (../workmail/restrict_finance.py): an SES function answers a
disposition for the whole rule, not an action per recipient, and cannot bounce by answering. It calls
SendBounce for the group (BOUNCE_SENDER must be a verified SES identity) and lets the rule go on for
everyone else. The S3 object is one per message: whatever delivers from the bucket must leave the
bounced recipient out (or give the group a receipt rule of its own, before the others, whose function
bounces and answers STOP_RULE_SET).
"""

import boto3

ORG_DOMAINS = ("example.com", "sales.example.com")
RESTRICTED = "finance@example.com"
BOUNCE_SENDER = "postmaster@example.com"
BOUNCE_MESSAGE = "finance@example.com takes mail from Example Corp staff only. Please write to your usual contact."
CONTINUE = {"disposition": "CONTINUE"}


def lambda_handler(event, context):
    ses = event["Records"][0]["ses"]
    sender = ses["mail"]["source"].lower()
    recipients = [r.lower() for r in ses["receipt"]["recipients"]]
    if sender.rpartition("@")[2] in ORG_DOMAINS or RESTRICTED not in recipients:
        return CONTINUE
    boto3.client("ses").send_bounce(
        OriginalMessageId=ses["mail"]["messageId"],
        BounceSender=BOUNCE_SENDER,
        Explanation=BOUNCE_MESSAGE,
        BouncedRecipientInfoList=[{"Recipient": RESTRICTED, "BounceType": "ContentRejected"}],
    )
    return CONTINUE
