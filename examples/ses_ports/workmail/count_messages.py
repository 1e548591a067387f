"""Workshop exercise 4 on WorkMail: count messages per direction in CloudWatch (asynchronous Run Lambda rule).

The original the SES port (../ses/count_messages.py) is compared with. An asynchronous rule ignores
the answer, so delivery never changes.
"""

import boto3

NAMESPACE = "WorkMailWorkshop"


def lambda_handler(event, context):
    direction = [{"Name": "Direction", "Value": event["flowDirection"]}]
    boto3.client("cloudwatch").put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[{"MetricName": "Messages", "Dimensions": direction, "Value": 1, "Unit": "Count"}],
    )
