"""The AWS managed policies for the Message Flow API, as documents the evaluator reads."""

from __future__ import annotations

from typing import Any

__all__ = [
    "MESSAGE_FLOW_FULL_ACCESS_POLICY",
    "MESSAGE_FLOW_FULL_ACCESS_POLICY_ARN",
    "MESSAGE_FLOW_READ_ONLY_POLICY",
    "MESSAGE_FLOW_READ_ONLY_POLICY_ARN",
]

# These mirror the AWS managed policies of the same names, version v1 (the default),
# as published in the AWS Managed Policy Reference:
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonWorkMailMessageFlowReadOnlyAccess.html
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonWorkMailMessageFlowFullAccess.html
# Note the published documents use "Resource": "*", not a message/* ARN.
# Do not mutate them; copy first (copy.deepcopy) if you need a variant.

MESSAGE_FLOW_READ_ONLY_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowReadOnlyAccess"
MESSAGE_FLOW_READ_ONLY_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Action": ["workmailmessageflow:Get*"],
            "Resource": "*",
            "Effect": "Allow",
        }
    ],
}

MESSAGE_FLOW_FULL_ACCESS_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowFullAccess"
MESSAGE_FLOW_FULL_ACCESS_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["workmailmessageflow:*"],
            "Resource": "*",
        }
    ],
}
