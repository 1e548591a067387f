"""Deploy src/ into the workmail-sandbox the way template.yaml deploys it to AWS.

The fixtures ``workmail_sandbox`` (a running sandbox, fresh for each test) and
``workmail_org`` (an organization with example.com and sales.example.com and the
users alice, bob, carol and dave) come from the workmail-sandbox pytest plugin:
installing the kit is enough, nothing is imported here.
"""

import io
import json
import zipfile
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
FUNCTION_NAME = "tag-external-mail"
BUCKET = "tag-external-mail-updated-emails"


def code_zip() -> bytes:
    """src/ as Lambda gets it from CodeUri: src/ (app.py and utils.py at the top of the zip)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(SRC.glob("*.py")):
            archive.write(path, path.name)
    return buffer.getvalue()


@pytest.fixture
def my_function(workmail_sandbox, workmail_org):
    """The function, its role, its bucket and WorkMail's permission, as template.yaml declares them.

    Returns the function's name. Every call is the real boto3 API; the sandbox answers.
    """
    sb, org = workmail_sandbox, workmail_org
    region, account = sb.region, sb.account_id
    org_messages = f"arn:aws:workmailmessageflow:{region}:{account}:message/{org.organization_id}"
    s3, iam, lam = sb.client("s3"), sb.client("iam"), sb.client("lambda")

    # UpdatedEmailBucket + UpdatedEmailBucketPolicy: WorkMail reads the edited copy from here.
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": f"workmail.{region}.amazonaws.com"},
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
            "Condition": {
                "Bool": {"aws:SecureTransport": "true"},
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": f"{org_messages}/*"},
            },
        }],
    }))

    # The function's role: read and replace this organization's incoming mail, write the bucket.
    # (SAM also attaches AWSLambdaBasicExecutionRole for the logs; the sandbox does not check logging rights.)
    trust = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    role = iam.create_role(
        RoleName=f"{FUNCTION_NAME}-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [trust]}),
    )["Role"]
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="tag-external-mail", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["workmailmessageflow:GetRawMessageContent", "workmailmessageflow:PutRawMessageContent"],
                "Resource": f"{org_messages}/incoming/*",
            },
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
        ],
    }))

    # TagExternalFunction, then WorkMailPermission (lambda add-permission).
    lam.create_function(
        FunctionName=FUNCTION_NAME,
        Runtime="python3.12",
        Handler="app.lambda_handler",
        Role=role["Arn"],
        Code={"ZipFile": code_zip()},
        Timeout=10,
        Environment={"Variables": {"INTERNAL_DOMAINS": ",".join(org.domains), "UPDATED_EMAIL_S3_BUCKET": BUCKET}},
    )
    lam.add_permission(
        FunctionName=FUNCTION_NAME,
        StatementId="AllowWorkMail",
        Action="lambda:InvokeFunction",
        Principal=f"workmail.{region}.amazonaws.com",
        SourceArn=org.arn,
        SourceAccount=account,
    )
    return FUNCTION_NAME
