"""SAM and CloudFormation templates on the client side: reading, the SAM transform, packaging.

* :mod:`.templates` -- read a template (JSON or YAML with ``!Ref``-style short
  forms) and count the capabilities it needs;
* :mod:`.transform` -- the ``AWS::Serverless`` transform, run locally with
  ``samtranslator`` (the library AWS's own transform is built on);
* :mod:`.packaging` -- what ``sam package`` does: code to an S3 staging bucket,
  and the names CloudFormation generates for resources.

Nothing here knows the emulators; the SAR emulator and :mod:`workmail_sandbox.deploy` use it.
"""

from __future__ import annotations

from .packaging import artifact_bucket, cap_function_names, generated_name, package_template, stage_code
from .templates import CAPABILITY_ORDER, load_template, required_capabilities_of, resource_capabilities
from .transform import cfn_capabilities_needed, transform_template

__all__ = [
    "CAPABILITY_ORDER",
    "artifact_bucket",
    "cap_function_names",
    "cfn_capabilities_needed",
    "generated_name",
    "load_template",
    "package_template",
    "required_capabilities_of",
    "resource_capabilities",
    "stage_code",
    "transform_template",
]
