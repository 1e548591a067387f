"""SAM and CloudFormation templates on the client side: reading, the SAM transform, packaging.

* :mod:`.templates` -- read a template (JSON or YAML with ``!Ref``-style short
  forms) and count the capabilities it needs;
* :mod:`.transform` -- the ``AWS::Serverless`` transform, run locally with
  ``samtranslator`` (the library AWS's own transform is built on);
* :mod:`.packaging` -- what ``sam package`` does: code to an S3 staging bucket,
  and the names CloudFormation generates for resources;
* :mod:`.parameters` -- a template's parameters, checked and resolved as
  CloudFormation does;
* :mod:`.build` -- what ``sam build`` does for Python functions and layers: the
  code and its ``requirements.txt`` dependencies as one deterministic zip, cached.

Nothing here knows the emulators (:mod:`.build` only asks the sandbox's state whether it runs);
the SAR emulator and :mod:`workmail_sandbox.deploy` use it.
"""

from __future__ import annotations

from .build import Build, build_function, build_layer, cache_root
from .packaging import (
    artifact_bucket,
    cap_function_names,
    generated_name,
    package_template,
    stage_code,
    stage_zip,
)
from .parameters import parameters_as_strings, resolve_parameters
from .templates import CAPABILITY_ORDER, load_template, required_capabilities_of, resource_capabilities
from .transform import cfn_capabilities_needed, transform_template

__all__ = [
    "CAPABILITY_ORDER",
    "Build",
    "artifact_bucket",
    "build_function",
    "build_layer",
    "cache_root",
    "cap_function_names",
    "cfn_capabilities_needed",
    "generated_name",
    "load_template",
    "package_template",
    "parameters_as_strings",
    "required_capabilities_of",
    "resolve_parameters",
    "resource_capabilities",
    "stage_code",
    "stage_zip",
    "transform_template",
]
