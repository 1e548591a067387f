"""Deploying functions into the sandbox (and, for handlers, into a real account), in one call each.

* :func:`deploy_app` (:mod:`.app`) -- one of the kit's apps, through the emulated
  Serverless Application Repository and CloudFormation, as a learner would;
* :func:`install_app` (:mod:`.direct`) -- the same resources created straight
  through the ``s3``, ``iam`` and ``lambda`` APIs: the lessons' fast path;
* :func:`deploy_handler` (:mod:`.handler`) -- a handler written in a notebook
  cell (or a source string) as a real Lambda function, in the sandbox or on AWS;
* :func:`deploy_project` (:mod:`.project`) -- a SAM project folder, built and
  deployed as ``sam build`` and ``sam deploy`` would.
"""

from __future__ import annotations

from .app import deploy_app, stack_summary
from .direct import install_app
from .handler import BASIC_EXECUTION_POLICY_ARN, LAMBDA_TRUST_POLICY, deploy_handler, handler_source, zip_source
from .project import DeployedFunction, Project, deploy_project

__all__ = [
    "BASIC_EXECUTION_POLICY_ARN",
    "DeployedFunction",
    "LAMBDA_TRUST_POLICY",
    "Project",
    "deploy_app",
    "deploy_handler",
    "deploy_project",
    "handler_source",
    "install_app",
    "stack_summary",
    "zip_source",
]
