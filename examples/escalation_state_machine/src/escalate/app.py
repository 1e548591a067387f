"""Escalate mail from VIP senders: start the escalation workflow, and keep the mail out of the junk folder.

Attach this function to a **synchronous inbound** Run Lambda email flow rule. For a message
whose envelope sender is one of VIP_SENDERS (an address, or a whole domain), it starts an
execution of the Step Functions state machine STATE_MACHINE_ARN and answers
BYPASS_SPAM_CHECK for every recipient; any other message gets DEFAULT and no execution.

The execution is named after the event's invocationId, which WorkMail keeps on every retry
of the same invocation, so a retry never opens a second ticket: while the first execution
runs, StartExecution with the same name and input returns it; once it has ended, Step
Functions refuses the name (ExecutionAlreadyExists).

Environment variables (set in template.yaml):
    STATE_MACHINE_ARN   the escalation workflow
    VIP_SENDERS         addresses and domains, comma-separated
"""

import json
import logging
import os

import boto3
from botocore.exceptions import ClientError

logger = logging.getLogger()
logger.setLevel(logging.INFO)

stepfunctions = boto3.client("stepfunctions")

DEFAULT_FOR_EVERYONE = {"actions": [{"action": {"type": "DEFAULT"}, "allRecipients": True}]}
BYPASS_SPAM_CHECK_FOR_EVERYONE = {"actions": [{"action": {"type": "BYPASS_SPAM_CHECK"}, "allRecipients": True}]}


def is_vip(sender, vip_senders):
    sender = sender.strip().lower()
    domain = sender.rpartition("@")[2]
    return sender in vip_senders or domain in vip_senders


def lambda_handler(event, context):
    vip_senders = {item.strip().lower() for item in os.environ["VIP_SENDERS"].split(",") if item.strip()}
    sender = event["envelope"]["mailFrom"]["address"]
    if event.get("flowDirection") != "INBOUND" or not is_vip(sender, vip_senders):
        return DEFAULT_FOR_EVERYONE

    workflow_input = {
        "sender": sender,
        "subject": event.get("subject") or "",
        "recipients": [r["address"] for r in event["envelope"]["recipients"]],
        "invocationId": event["invocationId"],
    }
    try:
        execution = stepfunctions.start_execution(
            stateMachineArn=os.environ["STATE_MACHINE_ARN"],
            name=event["invocationId"],
            input=json.dumps(workflow_input),
        )
        logger.info("VIP mail from %s: escalation %s started", sender, execution["executionArn"])
    except ClientError as error:
        if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
            raise  # WorkMail retries the invocation, then applies the rule's fallback action
        logger.info("VIP mail from %s: escalation already started by an earlier attempt", sender)
    return BYPASS_SPAM_CHECK_FOR_EVERYONE
