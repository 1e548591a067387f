"""The emulated Amazon WorkMail management API (``workmail``, API 2017-10-01).

moto has no WorkMail, so the kit answers the real boto3 client itself
(``boto3.client("workmail", region_name="us-east-1")``) in the three regions
WorkMail runs in: us-east-1, us-west-2, eu-west-1. Another region gives the
kit's :class:`~workmail_sandbox.errors.SandboxError`.

Emulated operations (everything the lessons and AWS's sample functions call):

* organizations: CreateOrganization, DescribeOrganization, ListOrganizations,
  DeleteOrganization;
* mail domains: RegisterMailDomain, ListMailDomains, GetMailDomain,
  UpdateDefaultMailDomain, DeregisterMailDomain;
* users and groups: CreateUser, DescribeUser, ListUsers, DeleteUser,
  CreateGroup, DescribeGroup, ListGroups, DeleteGroup, RegisterToWorkMail,
  DeregisterFromWorkMail, AssociateMemberToGroup, DisassociateMemberFromGroup,
  ListGroupMembers;
* email monitoring: PutEmailMonitoringConfiguration,
  DescribeEmailMonitoringConfiguration, DeleteEmailMonitoringConfiguration.

Any other WorkMail operation answers botocore's ``ClientError`` ``NotImplemented``
(HTTP 501) naming it and docs/coverage.md.

Sandbox-only helpers on the backend (not AWS operations; for the flow engine and
lessons): ``organization_domains``, ``find_entity_by_email``,
``group_member_emails``, ``monitoring_log_group``.

Deviations and assumptions
--------------------------

Where AWS behaves differently or its documentation is silent:

* **Organizations are Active at once.** AWS creates them asynchronously
  (Requested, Creating, Active); ``CompletedDate`` is the sandbox clock's time of
  creation. Aliases are unique per account and region (AWS reserves
  ``<alias>.awsapps.com`` across all of AWS) and free again once the
  organization is deleted.
* **Deleted organizations stay** in DescribeOrganization and ListOrganizations
  with ``State: "Deleted"``; any other operation on them is an
  OrganizationStateException. DeleteOrganization refuses an organization with
  ENABLED users unless ``ForceDelete=True`` (OrganizationStateException, an
  assumption from the ForceDelete documentation). ``DeleteDirectory`` is
  accepted and has no effect.
* **Directories.** Without ``DirectoryId`` the organization gets a WorkMail
  directory: ``DirectoryType "VpcDirectory"`` (as in the AWS CLI reference
  example) and a made-up ``d-`` id. With ``DirectoryId`` the directory must
  exist in moto's Directory Service (else DirectoryUnavailableException), be
  unused (DirectoryInUseException) and, as the CreateOrganization
  documentation says, carry the organization's alias; ``DirectoryType`` is then
  moto's directory type. ``EnableInteroperability`` needs an AD Connector
  directory. ``KmsKeyArn`` is stored only.
* **Mail domains** are verified at once: GetMailDomain always reports
  ``VERIFIED`` ownership and DKIM and an empty ``Records`` list (AWS lists the
  DNS records to create). Domain names are kept in lower case. The test domain
  ``<alias in lower case>.awsapps.com`` exists from creation, is the default
  until UpdateDefaultMailDomain, and cannot be deregistered; ``awsapps.com``
  domains cannot be registered. A domain belongs to one live organization per
  account and region (MailDomainInUseException). DeregisterMailDomain of an
  unknown domain succeeds (the model lists no "not found" error); the default
  domain and domains used by an entity's address are MailDomainInUseException.
* **Users and groups.** New entities are DISABLED until RegisterToWorkMail.
  Names are unique per organization across users and groups, ignoring case.
  Identifiers are accepted as id, name or email address in every operation
  (AWS documents fewer forms for some). RegisterToWorkMail of an ENABLED entity
  with its own address changes nothing; with another address it is
  EntityAlreadyRegisteredException. DeregisterFromWorkMail of a DISABLED entity
  changes nothing. DeleteUser needs a DISABLED user (as AWS documents);
  DeleteGroup works in any state. Deleted entities are removed at once (AWS
  lists them as DELETED for a while), and from every group. Deleting an unknown
  user or group succeeds, because the model lists no "not found" error for
  DeleteUser/DeleteGroup. Adding a member twice changes nothing; a group cycle
  is an InvalidParameterException. ``Role="RESOURCE"`` is refused. Passwords
  must have 8 to 64 characters from three of four classes (upper, lower,
  digits, symbols; Simple AD's rule, assumed) and are not stored.
  ReservedNameException is never raised (no list of reserved names is
  documented). Group member lists are not ordered by name but by when the
  member was added.
* **Email monitoring.** The log group must exist in moto's CloudWatch Logs
  (ResourceNotFoundException otherwise) and be in the organization's region;
  ``RoleArn`` defaults to the service-linked role
  ``AWSServiceRoleForAmazonWorkMailEvents`` and is not checked against IAM.
* **Validation.** Maximum lengths, patterns (matched against the whole value)
  and enums of the model, which botocore does not check on the client, are an
  InvalidParameterException with AWS's "N validation error(s) detected"
  wording. No quotas (LimitExceededException) are applied.
* **Pagination.** Lists come in creation order; ``MaxResults`` defaults to 100;
  a NextToken is only valid for the listing that issued it.
* **IAM.** Called from function code the sandbox runs, an operation needs the
  execution role's identity-based policies to allow ``workmail:<Operation>`` on
  the organization's ARN (``*`` for CreateOrganization and ListOrganizations),
  else AccessDeniedException (HTTP 400, an assumption) worded as IAM does
  (``permissions.workmail_role_decision``). Calls from the sandbox's own user (a
  notebook, a test) are allowed, as for the Message Flow API. Checked before the
  parameters. Service control policies, permission boundaries and conditions on
  WorkMail-specific keys are not modelled.
* **Not checked:** tags.
"""

from __future__ import annotations

from ...workmail_service import WORKMAIL_REGIONS
from .._core import EmulatedService
from .models import WorkMailBackend
from .responses import WorkMailResponses

__all__ = ["SERVICE", "WorkMailBackend", "WorkMailResponses"]

SERVICE = EmulatedService("workmail", WorkMailBackend, WorkMailResponses(), regions=WORKMAIL_REGIONS)
