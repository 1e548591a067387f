"""Workshop exercise 2 on WorkMail: bounce outside mail to finance@example.com (synchronous Run Lambda rule).

The original the SES port (../ses/restrict_finance.py) is compared with: one BOUNCE entry for the
group, DEFAULT for every other recipient.
"""

ORG_DOMAINS = ("example.com", "sales.example.com")
RESTRICTED = "finance@example.com"
BOUNCE_MESSAGE = "finance@example.com takes mail from Example Corp staff only. Please write to your usual contact."


def lambda_handler(event, context):
    sender = event["envelope"]["mailFrom"]["address"].lower()
    recipients = [r["address"].lower() for r in event["envelope"]["recipients"]]
    everyone_else = {"allRecipients": True, "action": {"type": "DEFAULT"}}
    if sender.rpartition("@")[2] in ORG_DOMAINS or RESTRICTED not in recipients:
        return {"actions": [everyone_else]}
    bounce = {"type": "BOUNCE", "parameters": {"bounceMessage": BOUNCE_MESSAGE}}
    return {"actions": [{"recipients": [RESTRICTED], "action": bounce}, everyone_else]}
