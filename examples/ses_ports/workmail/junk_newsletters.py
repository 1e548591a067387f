"""Workshop exercise 3 on WorkMail: bulk mail to junk (synchronous Run Lambda rule).

The original the SES port (../ses/junk_newsletters.py) is compared with. ``List-Unsubscribe`` or
``Precedence: bulk`` means MOVE_TO_JUNK; everything else gets DEFAULT, which keeps WorkMail's own spam
check (spam still lands in junk).
"""

from email import message_from_bytes, policy

import boto3


def lambda_handler(event, context):
    flow = boto3.client("workmailmessageflow")
    raw = flow.get_raw_message_content(messageId=event["messageId"])["messageContent"].read()
    headers = message_from_bytes(raw, policy=policy.default)
    bulk = headers["List-Unsubscribe"] is not None or str(headers["Precedence"] or "").strip().lower() == "bulk"
    action = "MOVE_TO_JUNK" if bulk else "DEFAULT"
    return {"actions": [{"allRecipients": True, "action": {"type": action}}]}
