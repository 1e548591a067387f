"""Workshop exercise 4 ported to Amazon SES receiving: count received messages in CloudWatch.

Receipt rule: an S3 action, then this function (Lambda action, Event: SES does not wait for it, and
its answer changes nothing, as with WorkMail's asynchronous rule).

What changed from the WorkMail function (../workmail/count_messages.py): SES receipt rules see inbound
mail only, and the event has no ``flowDirection``: every count is INBOUND. Counting outbound mail moves
to the sending side (for example SES sending events).
"""

import boto3

NAMESPACE = "WorkMailWorkshop"


def lambda_handler(event, context):
    direction = [{"Name": "Direction", "Value": "INBOUND"}]
    boto3.client("cloudwatch").put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[{"MetricName": "Messages", "Dimensions": direction, "Value": 1, "Unit": "Count"}],
    )
