"""A small, exact IAM policy evaluator for the three policies a Run Lambda set-up needs.

Pure Python, no AWS calls. It answers the questions AWS answers when WorkMail
runs a rule, so a lesson can fail for the same reason it would fail on AWS:

1. **The function's resource policy** (``lambda get_policy``): may
   ``workmail.<region>.amazonaws.com`` call ``lambda:InvokeFunction``, given the
   request context ``aws:SourceArn`` (the organization ARN) and
   ``aws:SourceAccount``? (docs/aws-behaviour.md §2.2)
2. **The bucket policy** (``s3 get_bucket_policy``): may the same service
   principal do ``s3:GetObject`` / ``s3:GetObjectVersion`` on the re-uploaded
   message, with ``aws:SourceArn`` = the message ARN, ``aws:SourceAccount`` and
   ``aws:SecureTransport``? (aws-behaviour §3.3)
3. **The execution role's identity policies** (inline and attached managed
   documents): may the role call ``workmailmessageflow:GetRawMessageContent`` or
   ``PutRawMessageContent`` on the message ARN? (aws-behaviour §3.2)

Use::

    decision = evaluate([lambda_client.get_policy(FunctionName=name)["Policy"]],
                        Request("lambda:InvokeFunction", function_arn,
                                principal=Principal.service("workmail.us-east-1.amazonaws.com"),
                                context={"aws:SourceArn": org_arn,
                                         "aws:SourceAccount": account}),
                        kind="resource")
    decision.allowed, decision.reason

Semantics (the IAM policy evaluation logic, reduced to one account, no SCPs,
no permission boundaries, no session policies):

* Default deny. A matching ``Deny`` always wins. Otherwise a matching ``Allow``
  allows. Every policy passed in one call is pooled, as AWS pools the inline and
  attached policies of a role.
* ``kind="resource"``: every statement must name a ``Principal`` or
  ``NotPrincipal`` and the request must carry one. ``kind="identity"``: a
  statement that names a principal is an error (:class:`PolicyError`), because
  IAM refuses such a document (``MalformedPolicyDocument``) when you attach it.
* ``Action``/``NotAction``: case-insensitive, ``*`` and ``?`` wildcards.
* ``Resource``/``NotResource``: case-sensitive. ``*`` and ``?`` work inside an
  ARN segment; a ``*`` that ends a segment may run past the colons, as the IAM
  reference says. Lambda qualifiers are not modelled: ``...:function:name``
  matches only ``...:function:name``.
* ``Principal``: ``"*"`` and ``{"AWS": "*"}`` match everyone. ``{"Service": ...}``
  matches that service principal, ignoring case. ``{"AWS": "<account>"}`` or
  ``{"AWS": "arn:aws:iam::<account>:root"}`` matches every AWS principal of the
  account; any other ``AWS`` value must equal the principal ARN. moto writes an
  account principal as a bare string (``"Principal": "123456789012"``); that is
  read as ``{"AWS": "123456789012"}``.
* Conditions: operators AND, keys under one operator AND, values of one key OR
  (NOR for negated operators). Condition keys ignore case. A key missing from
  the request fails a positive operator and passes a negated one
  (``StringNotEquals``, ``ArnNotLike``, ...), except with ``...IfExists`` (passes)
  and ``Null`` (tests presence). ``ForAllValues:`` passes on a missing or empty
  key; ``ForAnyValue:`` fails on it. A list value in the request without a
  set prefix counts as matching when any of its values matches (positive
  operators) or when none of them does (negated operators).
* Supported operators: ``StringEquals``, ``StringNotEquals``,
  ``StringEqualsIgnoreCase``, ``StringNotEqualsIgnoreCase``, ``StringLike``,
  ``StringNotLike``, ``ArnEquals``, ``ArnLike``, ``ArnNotEquals``,
  ``ArnNotLike``, ``Bool``, ``Null``, each with ``...IfExists`` (except
  ``Null``, as in IAM) and the ``ForAnyValue:``/``ForAllValues:`` prefixes.
  ``ArnEquals`` and ``ArnLike`` behave the same, as in IAM: the six ARN
  components are compared one by one, with wildcards inside each. Any other
  operator, including real IAM ones this evaluator does not model (Numeric,
  Date, IpAddress, Binary), raises :class:`PolicyError`: the evaluator fails
  closed rather than guess.
* Policy variables (``${aws:username}``) are not expanded; they are compared
  as literal text.

Parsing is strict where IAM is strict, so a lesson learns about a bad document
here rather than on AWS: invalid JSON, a missing or misspelt ``Effect``, both
``Action`` and ``NotAction``, unknown statement elements (except ``FunctionName``,
which moto adds to statements it creates from CloudFormation) and duplicate
``Sid`` values all raise :class:`PolicyError`.
"""

from .conditions import SUPPORTED_OPERATORS, Condition
from .documents import Policy, Statement, parse_policy
from .errors import PolicyError
from .evaluation import Decision, Request, StatementCheck, evaluate
from .managed_policies import (
    MESSAGE_FLOW_FULL_ACCESS_POLICY,
    MESSAGE_FLOW_FULL_ACCESS_POLICY_ARN,
    MESSAGE_FLOW_READ_ONLY_POLICY,
    MESSAGE_FLOW_READ_ONLY_POLICY_ARN,
)
from .principals import Principal

__all__ = [
    "MESSAGE_FLOW_FULL_ACCESS_POLICY",
    "MESSAGE_FLOW_FULL_ACCESS_POLICY_ARN",
    "MESSAGE_FLOW_READ_ONLY_POLICY",
    "MESSAGE_FLOW_READ_ONLY_POLICY_ARN",
    "SUPPORTED_OPERATORS",
    "Condition",
    "Decision",
    "Policy",
    "PolicyError",
    "Principal",
    "Request",
    "Statement",
    "StatementCheck",
    "evaluate",
    "parse_policy",
]
