"""The escalation workflow's OpenTicket task: record a ticket for the VIP message.

Called by the state machine (arn:aws:states:::lambda:invoke) with the workflow's state:
{sender, subject, recipients, invocationId, priority}. It writes the ticket to the
TICKETS_TABLE DynamoDB table and returns it, which makes it the execution's output.
"""

import datetime
import os

import boto3

tickets = boto3.resource("dynamodb").Table(os.environ["TICKETS_TABLE"])


def lambda_handler(event, context):
    ticket = {
        "ticketId": "ESC-" + event["invocationId"][:8].upper(),
        "priority": event["priority"],
        "queue": "vip-urgent" if event["priority"] == "high" else "vip",
        "sender": event["sender"],
        "subject": event["subject"],
        "recipients": event["recipients"],
        "openedAt": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    tickets.put_item(Item=ticket)
    return ticket
