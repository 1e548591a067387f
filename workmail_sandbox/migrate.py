"""A WorkMail Run Lambda function and its port to Amazon SES receiving, compared message by message.

AWS ends Amazon WorkMail on 31 March 2027 (docs/aws-behaviour.md §1); a team with a Run Lambda
function moves it to SES receiving (a receipt rule set whose rule stores the message in S3 and
invokes the port). :func:`compare_port` runs a corpus (a folder of ``.eml`` files, an mbox or a
Maildir, read as ``replay`` reads it) through both, in one sandbox:

* **WorkMail**: an organization with the corpus's domains and a Run Lambda rule for every inbound
  message (synchronous, fallback DEFAULT, one attempt; or your rule file), running the original;
* **SES**: the domains verified, a bucket SES may write to, and an active receipt rule set with one
  rule for the domains: an S3 action, then a Lambda action running the port (RequestResponse; or
  your rules).

The result (:class:`Comparison`) has one row per message and recipient: each side's outcome in
one vocabulary (:data:`OUTCOMES`), whether they agree, and why not (one of a few fixed reasons, so
that they can be counted). How each side's result maps onto the vocabulary, and where AWS is
silent, is in docs/migrating.md ("The outcome vocabulary"); :func:`workmail_outcome` and
:func:`ses_outcome` are the mapping.

One concept: a function compared with its port. The vocabulary and its mapping (pure), the two
sides' set-up and the row-by-row comparison change together whenever a side's outcomes change, so
they stay in one module.

Where AWS is silent, the kit's choices are keyword arguments: ``junk_header`` (SES has no junk
folder; a stored copy carrying this header counts as junk, default ``X-Spam-Flag: YES``, the header
mailbox filters commonly file on) and what the SES side's stored object means (the S3 object is the
copy the mailbox reads: stored = delivered).
"""

from __future__ import annotations

import contextlib
import csv as csv_module
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import default as _default_policy
from pathlib import Path
from typing import Any

from . import sandbox as sandbox_module
from ._text_files import read_small_text_file
from ._yaml_limits import load_without_aliases, yaml_error_text
from .errors import ConfigurationError, WorkMailSandboxError
from .flow import FlowSettings
from .mail import ParsedMessage
from .mail.corpus import iter_corpus
from .organization import Organization
from .replay import SAMPLE_DOMAINS
from .rules import Rule, RuleSet

__all__ = [
    "COLUMNS",
    "JUNK_HEADER",
    "OUTCOMES",
    "REASONS",
    "Comparison",
    "compare_port",
    "difference",
    "ses_outcome",
    "workmail_outcome",
]

#: The outcome of one recipient on either side (docs/migrating.md, "The outcome vocabulary").
OUTCOMES = ("delivered", "junk", "bounced", "dropped", "redirected", "rejected", "not received", "failed")
#: A row's verdict: both sides agree, they differ (``reason`` says why), the message is outbound
#: (SES receiving sees inbound mail only), or it could not be read or routed.
VERDICTS = ("agree", "differ", "skipped", "error")
COLUMNS = (
    "message", "subject", "recipient", "workmail", "ses", "verdict", "reason",
    "workmail_action", "workmail_detail", "ses_detail", "workmail_subject", "ses_subject",
)
#: The header a stored copy carries when the port files it as junk (the kit's choice: AWS is silent).
JUNK_HEADER = ("X-Spam-Flag", "YES")
#: Why two sides differ: a fixed sentence each, so that the summary can count them.
REASONS = {
    "junk": "MOVE_TO_JUNK has no SES disposition: the port did not mark the stored copy for the junk folder",
    "spam": "WorkMail's DEFAULT files spam in junk; SES stores spam like any other mail",
    "port junk": "the port marked the stored copy as junk; WorkMail delivered it to the inbox",
    "bounce": "WorkMail bounced it; the port did not bounce it (SendBounce or a Bounce action)",
    "port bounce": "the port bounced it via SendBounce; WorkMail delivered it",
    "bounce action": "a Bounce action of the receipt rule set bounced it; WorkMail did not",
    "drop": "WorkMail dropped it; SES stored it (the S3 action ran before the function could stop the rule set)",
    "port drop": "SES stored it nowhere (stopped, or no S3 action); WorkMail did not drop it",
    "rejected": "SES rejected the recipient: no verified domain or no enabled rule matches it",
    "added": "the WorkMail function added this recipient; an SES function cannot add recipients",
    "only ses": "WorkMail did not route the message to this recipient",
    "subject": "same outcome, but the delivered Subject differs",
    "fallback": "the WorkMail function failed and the rule's fallback applied; the port did its work",
    "virus": "WorkMail's virus check dropped it before any rule; SES runs the rules whatever the virus verdict",
    "no recipient": "the message has no recipient address: neither side receives it",
    "outbound": "outbound mail: SES receiving receives inbound mail only",
    "error": "the message could not be read or routed",
}
_WORKMAIL = {"inbox": "delivered", "junk": "junk", "bounced": "bounced", "dropped": "dropped",
             "sent": "redirected", "failed": "failed"}
_SES = {"rejected": "rejected", "bounced": "bounced", "published": "redirected", "workmail": "delivered",
        "stopped": "dropped", "processed": "dropped", "accepted": "dropped"}
_FLOW_FULL = "arn:aws:iam::aws:policy/AmazonWorkMailMessageFlowFullAccess"
_PORT_POLICIES = ("arn:aws:iam::aws:policy/AmazonS3FullAccess", "arn:aws:iam::aws:policy/AmazonSESFullAccess",
                  "arn:aws:iam::aws:policy/CloudWatchFullAccess")
_INVOCATION_TYPES = ("RequestResponse", "Event")
_RULES_FILE_LIMIT = 256 * 1024
#: What a LambdaAction's FunctionArn may say in a rules file to mean "the port".
PORT_PLACEHOLDER = "PORT"


# ------------------------------------------------------------------ the mapping (pure)


def workmail_outcome(outcome: str) -> str:
    """WorkMail's recipient outcome (inbox, junk, bounced, dropped, sent, failed) in :data:`OUTCOMES`.

    ``sent`` (the copy left the organization for another mail server) is ``redirected``.
    """
    return _WORKMAIL.get(outcome, "failed")


def ses_outcome(outcome: str, stored: bytes | None = None, junk_header: tuple[str, str] = JUNK_HEADER) -> str:
    """SES receiving's recipient outcome (:data:`workmail_sandbox.ses.receiving.OUTCOMES`) in :data:`OUTCOMES`.

    ``stored`` (an S3 action wrote it): ``delivered``, or ``junk`` when the stored copy (``stored``,
    its bytes after the whole rule set ran) carries ``junk_header``. ``workmail`` (handed to an
    organization): ``delivered``. ``published`` (an SNS topic got it): ``redirected``. ``stopped``,
    ``processed``, ``accepted``: taken but stored nowhere, ``dropped``.
    """
    if outcome == "stored":
        return "junk" if stored is not None and _has_header(stored, junk_header) else "delivered"
    return _SES.get(outcome, "failed")


def _headers(raw: bytes) -> Any:
    return BytesHeaderParser(policy=_default_policy).parsebytes(raw)


def _has_header(raw: bytes, header: tuple[str, str]) -> bool:
    name, value = header
    return any(str(v).strip().lower() == value.lower() for v in _headers(raw).get_all(name) or [])


def _subject(raw: bytes | None) -> str:
    if not raw:
        return ""
    value = _headers(raw).get("Subject")
    return str(value) if value is not None else ""


def difference(workmail: Mapping[str, Any], ses: Mapping[str, Any]) -> str:
    """Why the two sides of one recipient differ: a sentence of :data:`REASONS`, or '' when they agree.

    ``workmail``: ``outcome`` (in :data:`OUTCOMES`), ``action`` (DEFAULT, MOVE_TO_JUNK, ...),
    ``source`` (rule, lambda, fallback, ses: WorkMail's own virus check), ``spam`` (the spam verdict),
    ``added``, ``subject``; ``ses``: ``outcome``, ``bounced_via``
    (``SendBounce``, ``BounceAction``, ...), ``subject``. A pair no reason fits reads
    "WorkMail <a>, SES <b>".
    """
    a, b = workmail.get("outcome", "not received"), ses.get("outcome", "not received")
    if a == b:
        if a in ("delivered", "junk") and workmail.get("subject", "") != ses.get("subject", ""):
            return REASONS["fallback"] if workmail.get("source") == "fallback" else REASONS["subject"]
        return ""
    if a == "not received":
        return REASONS["only ses"]
    if b == "not received":
        return REASONS["added"] if workmail.get("added") else f"WorkMail {a}, SES {b}"
    if b == "rejected":
        return REASONS["rejected"]
    if a == "junk" and b == "delivered":
        spam_only = workmail.get("action") != "MOVE_TO_JUNK" and str(workmail.get("spam", "")).upper() == "FAIL"
        return REASONS["spam"] if spam_only else REASONS["junk"]
    if a == "delivered" and b == "junk":
        return REASONS["port junk"]
    if a == "bounced":
        return REASONS["bounce"]
    if b == "bounced":
        return REASONS["port bounce"] if ses.get("bounced_via") == "SendBounce" else REASONS["bounce action"]
    if a == "dropped" and b in ("delivered", "junk"):
        return REASONS["virus"] if workmail.get("source") == "ses" else REASONS["drop"]
    if b == "dropped":
        return REASONS["port drop"]
    return f"WorkMail {a}, SES {b}"


# ------------------------------------------------------------------ the result


@dataclass
class Comparison:
    """What :func:`compare_port` found: ``table`` (pandas, :data:`COLUMNS`), one row per message and recipient."""

    table: Any
    workmail: str
    ses: str
    messages: int

    @property
    def differences(self) -> Any:
        """The rows where the two sides differ."""
        return self.table[self.table["verdict"] == "differ"]

    @property
    def agreed(self) -> bool:
        """True when no inbound row differs and none failed."""
        return not self.table["verdict"].isin(["differ", "error"]).any()

    def summary(self) -> Any:
        """Rows per verdict and reason (a DataFrame: ``verdict``, ``reason``, ``rows``), most first."""
        import pandas as pd

        if not len(self.table):
            return pd.DataFrame(columns=["verdict", "reason", "rows"])
        counts = self.table.groupby(["verdict", "reason"], dropna=False).size().reset_index(name="rows")
        order = {v: i for i, v in enumerate(VERDICTS)}
        counts["_order"] = counts["verdict"].map(order)
        counts = counts.sort_values(["_order", "rows"], ascending=[True, False]).drop(columns="_order")
        return counts.reset_index(drop=True)

    def counts(self) -> dict[str, int]:
        """Rows per verdict."""
        found = self.table["verdict"].value_counts().to_dict() if len(self.table) else {}
        return {v: int(found.get(v, 0)) for v in VERDICTS if found.get(v)}

    def report(self) -> str:
        """A few lines: what was compared, the rows per verdict, and each reason with its count."""
        shown = ", ".join(f"{n} {v}" for v, n in self.counts().items()) or "no rows"
        lines = [f"WorkMail: {self.workmail}", f"SES:      {self.ses}",
                 f"{self.messages} messages, {len(self.table)} rows: {shown}"]
        for row in self.summary().itertuples():
            if row.verdict in ("differ", "skipped", "error"):
                lines.append(f"  {row.verdict} {row.rows:>4}  {row.reason}")
        return "\n".join(lines)

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the whole table as CSV (UTF-8; raw 8-bit bytes written ``\\udcXX``); returns the path."""
        from .replay_folder import check_output_path

        out = check_output_path(path, "--csv")
        with open(out, "w", encoding="utf-8", errors="backslashreplace", newline="") as handle:
            writer = csv_module.writer(handle)
            writer.writerow(COLUMNS)
            writer.writerows(self.table[list(COLUMNS)].itertuples(index=False, name=None))
        return out

    def __repr__(self) -> str:
        shown = ", ".join(f"{n} {v}" for v, n in self.counts().items()) or "no rows"
        return f"<Comparison {self.messages} messages, {len(self.table)} rows: {shown}>"


# ------------------------------------------------------------------ what runs on each side


@dataclass(frozen=True)
class _Code:
    """A function to deploy: a Python callable, a ``PATH:HANDLER`` file, or a SAM project folder."""

    kind: str  # "callable", "file", "project"
    value: Any
    handler: str
    label: str


def _code(spec: Any, side: str) -> _Code:
    option = f"--{side}-project"
    if callable(spec):
        name = getattr(spec, "__name__", "lambda_handler")
        return _Code("callable", spec, name, f"{name} (a Python function)")
    if not isinstance(spec, (str, os.PathLike)):
        raise ConfigurationError(f"{side}={spec!r} is not a function, a PATH:HANDLER or a SAM project folder.",
                                 fix=f"pass a handler function, 'my_function.py:lambda_handler' or {option} DIR")
    text = os.fspath(spec)
    path_text, colon, handler = text.rpartition(":")
    if colon and path_text.endswith(".py"):
        path = Path(path_text)
        if not path.is_file():
            raise ConfigurationError(f"{path}: no such Python file ({side} side).",
                                     fix="give the path of the file that defines the handler")
        if not handler.isidentifier():
            raise ConfigurationError(f"{handler!r} is not a Python function name ({side} side).",
                                     fix="give the handler's name, e.g. my_function.py:lambda_handler")
        return _Code("file", path, handler, f"{path}:{handler}")
    path = Path(text)
    if text.endswith(".py"):
        raise ConfigurationError(f"{text}: a Python file needs the handler's name ({side} side).",
                                 fix=f"write {text}:lambda_handler")
    if not path.exists():
        raise ConfigurationError(f"{option} {path}: no such project folder or template.",
                                 fix="give the folder that holds template.yaml (the one you run sam build in)")
    return _Code("project", path, "", f"SAM project {path}")


def _deploy_handler(code: _Code, name: str, environment: Mapping[str, str], policies: Sequence[str]) -> str:
    from .deploy.handler import deploy_handler

    source = code.value if code.kind == "callable" else code.value.read_text(encoding="utf-8")
    deployed = deploy_handler(source, name=name, handler_name=code.handler, environment=dict(environment),
                              managed_policies=list(policies), description=f"{code.label}, deployed by compare")
    return str(deployed["FunctionArn"])


def _template_parameters(path: Path) -> set[str]:
    from .deploy.project import find_template
    from .sam.templates import load_template

    try:
        template = load_template(find_template(path).read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - deploy_project reports the template's problem in one line
        return set()
    declared = template.get("Parameters")
    return {str(k) for k in declared} if isinstance(declared, Mapping) else set()


def _read_rules_file(path: str | os.PathLike[str], option: str) -> Any:
    """A JSON or YAML file's data, read within a size limit (errors name the file and the fix)."""
    text = read_small_text_file(
        Path(path), _RULES_FILE_LIMIT, ConfigurationError, kind=f"{option} file",
        fix_missing=f"give {option} an existing JSON or YAML file", fix_not_regular="give a regular file",
        fix_too_large="a rule file is a few kilobytes; split it",
    )
    if str(path).endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"{option} {path}: not valid JSON ({exc}).", fix="fix the JSON") from None
    try:
        return load_without_aliases(text, max_depth=32)
    except Exception as exc:  # noqa: BLE001 - YAML errors of every kind become one line
        raise ConfigurationError(f"{option} {path}: not valid YAML ({yaml_error_text(exc)}).",
                                 fix="fix the YAML (or write JSON)") from None


def ses_rules_from(data: Any, *, port_arn: str, bucket: str, prefix: str, domains: Sequence[str],
                   source: str = "ses_rules") -> list[dict[str, Any]]:
    """Receipt rules (``CreateReceiptRule``'s ``Rule`` dicts, in order) from a list or ``{"Rules": [...]}``.

    A LambdaAction without ``FunctionArn`` (or with ``"PORT"``) runs the port; an S3Action without
    ``BucketName`` writes to ``bucket`` (``ObjectKeyPrefix`` default ``prefix``); a rule without
    ``Enabled`` is enabled and one without ``Recipients`` gets ``domains``.
    """
    rules = data.get("Rules") if isinstance(data, Mapping) else data
    if not isinstance(rules, list) or not rules or not all(isinstance(r, Mapping) for r in rules):
        raise ConfigurationError(f"{source}: expected a list of receipt rules (or {{'Rules': [...]}}).",
                                 fix='write [{"Name": "port", "Actions": [{"S3Action": {}}, {"LambdaAction": {}}]}]')
    out = []
    for n, rule in enumerate(rules, start=1):
        actions = rule.get("Actions")
        if not isinstance(actions, list) or not all(isinstance(a, Mapping) and len(a) == 1 for a in actions):
            raise ConfigurationError(f"{source}: rule {n} needs Actions, a list of one-key objects.",
                                     fix='e.g. "Actions": [{"S3Action": {}}, {"LambdaAction": {}}]')
        fixed = []
        for action in actions:
            kind, spec = next(iter(action.items()))
            spec = dict(spec or {})
            if kind == "LambdaAction" and spec.get("FunctionArn", PORT_PLACEHOLDER) == PORT_PLACEHOLDER:
                spec["FunctionArn"] = port_arn
                spec.setdefault("InvocationType", "RequestResponse")
            if kind == "S3Action" and not spec.get("BucketName"):
                spec["BucketName"] = bucket
                spec.setdefault("ObjectKeyPrefix", prefix)
            fixed.append({kind: spec})
        made = {**rule, "Actions": fixed, "Name": str(rule.get("Name") or f"port-{n}")}
        made.setdefault("Enabled", True)
        made.setdefault("Recipients", list(domains))
        out.append(made)
    return out


# ------------------------------------------------------------------ setting up the two sides


#: The boto3 clients one :func:`compare_port` run makes its own calls with, one per service
#: (making a client costs about 15 ms; a run used to make a dozen). None outside a run.
_RUN_CLIENTS: ContextVar[dict[str, Any] | None] = ContextVar("workmail_sandbox_compare_clients", default=None)


def _client(sb: Any, service: str) -> Any:
    """``sb.client(service)``, made once per :func:`compare_port` run."""
    made = _RUN_CLIENTS.get()
    if made is None:
        return sb.client(service)
    if service not in made:
        made[service] = sb.client(service)
    return made[service]


def _create_bucket(sb: Any, name: str, policy: Mapping[str, Any] | None = None) -> None:
    s3 = _client(sb, "s3")
    options: dict[str, Any] = {}
    if sb.region != "us-east-1":
        options["CreateBucketConfiguration"] = {"LocationConstraint": sb.region}
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=name, **options)
    if policy is not None:
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))


def _free_name(taken: set[str], base: str) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def _workmail_side(sb: Any, code: _Code, rules: Any, synchronous: bool, domains: Sequence[str],
                   users: Sequence[str], environment: Mapping[str, str],
                   parameters: Mapping[str, Any]) -> tuple[Organization, str]:
    from .permissions import workmail_bucket_policy
    from .project_invoke import deploy_for_organization
    from .replay_folder import rules_running

    client = _client(sb, "workmail")
    taken = {o["Alias"] for o in client.list_organizations()["OrganizationSummaries"]}
    settings = FlowSettings(unknown_recipients="create-mailbox", keep_content=True)
    held = _held_domains(sb, domains)
    if held:
        org = Organization.attach(sb, held, settings=settings)
    else:
        org = Organization.create(sb, _free_name(taken, "compare"), domains=list(domains), users=list(users),
                                  settings=settings)
    content_bucket = f"workmail-port-content-{sb.account_id}"
    _create_bucket(sb, content_bucket, workmail_bucket_policy(content_bucket, organization_id=org.id,
                                                              account_id=sb.account_id, region=sb.region))
    if code.kind == "project":
        arn = deploy_for_organization(code.value, org, parameters=parameters).function.arn
    else:
        name = _free_name(_function_names(sb), "compare-workmail")
        arn = _deploy_handler(code, name, {"BUCKET": content_bucket, **environment}, (_FLOW_FULL, *_PORT_POLICIES))
        org.grant_invoke(name)
    if rules is None:
        rule = Rule("port", "inbound", ("*",), ("*",), "RUN_LAMBDA", function_arn=arn, synchronous=synchronous,
                    fallback_action="DEFAULT" if synchronous else None,
                    rule_timeout_minutes=0 if synchronous else None)
        org.rules = RuleSet([rule])
    else:
        ruleset = rules if isinstance(rules, RuleSet) else RuleSet.from_file(rules)
        if not any(r.is_run_lambda for r in ruleset):
            raise ConfigurationError("The WorkMail rules have no Run Lambda rule, so the function would never run.",
                                     fix="add a rule with action RUN_LAMBDA, or leave --rules out")
        org.rules = rules_running(ruleset, arn)
    return org, arn


def _held_domains(sb: Any, domains: Sequence[str]) -> str | None:
    """The id of the organization that already holds one of ``domains`` (a lesson's), or None."""
    client = _client(sb, "workmail")
    wanted = {d.lower() for d in domains}
    for summary in client.list_organizations()["OrganizationSummaries"]:
        if summary.get("State") != "Active":
            continue
        names = client.list_mail_domains(OrganizationId=summary["OrganizationId"]).get("MailDomains", [])
        if any(m["DomainName"].lower() in wanted for m in names):
            return str(summary["OrganizationId"])
    return None


def _function_names(sb: Any) -> set[str]:
    return {f["FunctionName"] for f in _client(sb, "lambda").list_functions().get("Functions", [])}


def _ses_side(sb: Any, code: _Code, rules: Any, invocation_type: str, domains: Sequence[str], bucket: str,
              prefix: str, environment: Mapping[str, str], parameters: Mapping[str, Any]) -> tuple[str, str]:
    """Deploy the port, verify the domains, make the bucket and the active rule set; (rule set, port ARN)."""
    from .ses.rules import receipt_rule_arn

    ses, lam = _client(sb, "ses"), _client(sb, "lambda")
    for domain in domains:
        ses.verify_domain_identity(Domain=domain)
    env = {"MAIL_BUCKET": bucket, "OBJECT_KEY_PREFIX": prefix, **environment}
    if code.kind == "project":
        from .deploy.project import deploy_project

        declared = _template_parameters(code.value)
        values = dict(parameters)
        for key, value in (("MailBucket", bucket), ("ObjectKeyPrefix", prefix)):
            if key in declared:
                values.setdefault(key, value)
        arn = deploy_project(code.value, values, region=sb.region).function(None).arn
    else:
        arn = _deploy_handler(code, _free_name(_function_names(sb), "compare-ses-port"), env, _PORT_POLICIES)
    sets = {s["Name"] for s in ses.list_receipt_rule_sets().get("RuleSets", [])}
    rule_set = _free_name(sets, "compare")
    made: list[dict[str, Any]]
    if rules is None:
        made = [{"Name": "port", "Enabled": True, "Recipients": list(domains),
                 "Actions": [{"S3Action": {"BucketName": bucket, "ObjectKeyPrefix": prefix}},
                             {"LambdaAction": {"FunctionArn": arn, "InvocationType": invocation_type}}]}]
    else:
        data = rules if isinstance(rules, list) else _read_rules_file(rules, "--ses-rules")
        made = ses_rules_from(data, port_arn=arn, bucket=bucket, prefix=prefix, domains=domains,
                              source=str(rules) if not isinstance(rules, list) else "ses_rules")
    arns = [receipt_rule_arn(sb.region, sb.account_id, rule_set, r["Name"]) for r in made]
    _create_bucket(sb, bucket, {"Version": "2012-10-17", "Statement": [{
        "Sid": "AllowSESPuts", "Effect": "Allow", "Principal": {"Service": "ses.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringEquals": {"AWS:SourceAccount": sb.account_id, "AWS:SourceArn": arns}}}]})
    functions = {a["LambdaAction"]["FunctionArn"] for r in made for a in r["Actions"] if "LambdaAction" in a}
    for function in functions:
        for rule, rule_arn in zip(made, arns):
            if any(a.get("LambdaAction", {}).get("FunctionArn") == function for a in rule["Actions"]):
                lam.add_permission(FunctionName=function, StatementId=f"AllowSES-{rule_set}-{rule['Name']}",
                                   Action="lambda:InvokeFunction", Principal="ses.amazonaws.com",
                                   SourceAccount=sb.account_id, SourceArn=rule_arn)
    ses.create_receipt_rule_set(RuleSetName=rule_set)
    after = None
    for rule in made:
        ses.create_receipt_rule(RuleSetName=rule_set, Rule=rule, **({"After": after} if after else {}))
        after = rule["Name"]
    ses.set_active_receipt_rule_set(RuleSetName=rule_set)
    return rule_set, arn


# ------------------------------------------------------------------ comparing


def _verdicts(raw: bytes) -> dict[str, str]:
    """The spam and virus verdicts the message's X-SES-* headers carry (what WorkMail's flow read), else PASS."""
    headers = _headers(raw)
    found = {}
    for key, name in (("spam", "X-SES-Spam-Verdict"), ("virus", "X-SES-Virus-Verdict")):
        value = str(headers.get(name) or "PASS").strip().upper()
        found[key] = value if value in ("PASS", "FAIL", "GRAY", "PROCESSING_FAILED") else "PASS"
    return found


def _row(message: str, subject: str, recipient: str | None, workmail: str, ses: str, verdict: str, reason: str,
         **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS, "")
    row.update(message=message, subject=subject, recipient=recipient, workmail=workmail, ses=ses, verdict=verdict,
               reason=reason, **extra)
    return row


def _compare_message(sb: Any, s3: Any, org: Organization, receiving: Any, name: str, parsed: ParsedMessage,
                     direction: str, junk_header: tuple[str, str]) -> list[dict[str, Any]]:
    subject = parsed.subject
    result = org.route(parsed, direction=direction)
    if result.direction == "OUTBOUND":
        return [_row(name, subject, r, workmail_outcome(o.outcome), "not received", "skipped", REASONS["outbound"],
                     workmail_action=o.action, workmail_detail=o.reason) for r, o in result.recipients.items()] or [
            _row(name, subject, None, "not received", "not received", "skipped", REASONS["outbound"])]
    envelope = [r for r, o in result.recipients.items() if not o.added] or list(parsed.recipients)
    if not envelope:
        return [_row(name, subject, None, "not received", "not received", "skipped", REASONS["no recipient"])]
    verdicts = _verdicts(parsed.raw)
    receipt = receiving.receive(parsed, recipients=envelope, sender=result.mail_from or None, **verdicts)
    stored: dict[str, bytes] = {}

    def stored_copy(recipient: str) -> bytes | None:
        for action in receipt.actions:
            if action.outcome == "stored" and recipient in action.recipients and action.location:
                if action.location not in stored:
                    bucket, _, key = action.location.removeprefix("s3://").partition("/")
                    stored[action.location] = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                return stored[action.location]
        return None

    rows = []
    for recipient in dict.fromkeys([*result.recipients, *receipt.recipients]):
        o = result.recipients.get(recipient)
        # no recipient in the organization's domains: WorkMail refuses the mail (it never receives it)
        wm: dict[str, Any] = {"outcome": "not received" if result.recipients else "rejected"}
        if o is not None:
            content = sb.message_content(o.message_id) if o.message_id else parsed.raw
            wm = {"outcome": workmail_outcome(o.outcome), "action": o.action, "source": o.source,
                  "spam": o.spam_verdict or
                  verdicts["spam"], "added": o.added, "subject": _subject(content)}
        side: dict[str, Any] = {"outcome": "not received"}
        if recipient in receipt.outcomes:
            raw_outcome = receipt.outcomes[recipient]
            copy = stored_copy(recipient) if raw_outcome == "stored" else None
            via = next((b.via for b in receipt.bounces if recipient in b.recipients), None)
            side = {"outcome": ses_outcome(raw_outcome, copy, junk_header), "bounced_via": via,
                    "subject": _subject(copy) if copy is not None else _subject(parsed.raw)}
        reason = difference(wm, side)
        rows.append(_row(
            name, subject, recipient, wm["outcome"], side["outcome"], "differ" if reason else "agree", reason,
            workmail_action=o.action if o is not None else "",
            workmail_detail=o.reason if o is not None else (result.note or ""),
            ses_detail=receipt.reasons.get(recipient, ""),
            workmail_subject=wm.get("subject", ""), ses_subject=side.get("subject", ""),
        ))
    return rows


def _check_source(source: Any) -> Path:
    paths = [Path(p) for p in source] if isinstance(source, (list, tuple)) else [Path(source)]
    missing = [str(p) for p in paths if not p.exists()]
    if missing or not paths:
        raise ConfigurationError(
            f"{', '.join(missing) or 'no message'}: no such file or folder.",
            fix="pass a folder of .eml files, an mbox file, a Maildir folder or a list of .eml files",
        )
    return paths[0] if len(paths) == 1 and not isinstance(source, (list, tuple)) else paths[0].parent


def _items(source: Any) -> Iterator[Any]:
    """The corpus's entries (:func:`~workmail_sandbox.mail.corpus.iter_corpus`), or those of a list of files."""
    from .mail.corpus import file_item

    if not isinstance(source, (list, tuple)):
        yield from iter_corpus(source, max_bytes=None)
        return
    for path in source:
        yield file_item(Path(path).name, Path(path), {"headers_only": False, "max_bytes": None})


@contextlib.contextmanager
def _sandbox_kept() -> Iterator[Any]:
    """The running sandbox (its state restored afterwards), or a fresh one stopped afterwards."""
    if sandbox_module.get_mode() == sandbox_module.AWS:
        raise ConfigurationError(
            "compare runs both sides in the sandbox; this process is in aws mode.",
            fix="run it without WORKMAIL_SANDBOX_MODE=aws (lesson 09's On real AWS part deploys a port)",
        )
    running = sandbox_module.current()
    if running is not None and running.started:
        saved = running.snapshot()
        try:
            yield running
        finally:
            running.restore(saved)
        return
    with sandbox_module.sandbox() as sb:
        yield sb


def compare_port(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    workmail: Callable[..., Any] | str | os.PathLike[str],
    ses: Callable[..., Any] | str | os.PathLike[str],
    *,
    workmail_rules: RuleSet | str | os.PathLike[str] | None = None,
    synchronous: bool = True,
    ses_rules: list[dict[str, Any]] | str | os.PathLike[str] | None = None,
    invocation_type: str = "RequestResponse",
    domains: Sequence[str] = SAMPLE_DOMAINS,
    users: Sequence[str] = (),
    direction: str = "auto",
    junk_header: tuple[str, str] = JUNK_HEADER,
    bucket: str = "ses-port-mail",
    prefix: str = "inbound/",
    workmail_environment: Mapping[str, str] | None = None,
    ses_environment: Mapping[str, str] | None = None,
    workmail_parameters: Mapping[str, Any] | None = None,
    ses_parameters: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> Comparison:
    """Run ``source`` through WorkMail with ``workmail`` and through SES receiving with its port ``ses``.

    ``workmail`` and ``ses``: a handler function, ``"PATH:HANDLER"`` (a Python file) or a SAM project
    folder. The WorkMail function gets ``BUCKET`` (a bucket WorkMail may read, for
    PutRawMessageContent) in its environment and a synchronous Run Lambda rule for all inbound mail
    (``synchronous=False``: asynchronous), or ``workmail_rules`` (a rule file or RuleSet, every Run
    Lambda rule running the function). The port gets ``MAIL_BUCKET`` and ``OBJECT_KEY_PREFIX`` (a SAM
    project: parameters ``MailBucket`` and ``ObjectKeyPrefix`` when it declares them) and a receipt
    rule for ``domains`` with an S3 action then a Lambda action (``invocation_type``), or
    ``ses_rules`` (a JSON/YAML file or a list of rules; see :func:`ses_rules_from`).

    ``source``: a folder of ``.eml`` files, an mbox file, a Maildir, or a list of ``.eml`` files.
    ``direction`` as for ``replay``: outbound messages (From in ``domains``) get ``skipped`` rows, as
    SES receiving sees inbound mail only. ``junk_header``: the header that makes a stored copy junk.
    Uses the running sandbox (its state is restored afterwards) or starts one and stops it; never aws
    mode. The delivered copies are kept for the run (their Subjects are compared), so memory grows
    with the corpus: for a very large corpus, compare a sample of it.
    """
    if invocation_type not in _INVOCATION_TYPES:
        raise ConfigurationError(f"invocation_type={invocation_type!r} is not one of {', '.join(_INVOCATION_TYPES)}.",
                                 fix="use 'RequestResponse' (the port decides the flow) or 'Event'")
    if not (isinstance(junk_header, (tuple, list)) and len(junk_header) == 2 and all(
            isinstance(x, str) and x for x in junk_header)):
        raise ConfigurationError(f"junk_header={junk_header!r} is not a (name, value) pair.",
                                 fix="pass junk_header=('X-Spam-Flag', 'YES')")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        raise ConfigurationError(f"bucket={bucket!r} is not a valid S3 bucket name.",
                                 fix="use 3-63 lower-case letters, digits, dots and hyphens")
    wanted = [d.strip().lower() for d in domains]
    if not wanted or any("@" in d or "." not in d for d in wanted):
        raise ConfigurationError(f"domains={list(domains)!r}: give mail domains such as example.com.",
                                 fix="pass domains=['example.com']")
    if direction not in ("auto", "inbound", "outbound"):
        raise ConfigurationError(f"direction={direction!r} is not auto, inbound or outbound.",
                                 fix="use 'auto' (from the From domain, as replay does)")
    root = _check_source(source)
    wm_code, ses_code = _code(workmail, "workmail"), _code(ses, "ses")
    if workmail_rules is not None and not isinstance(workmail_rules, RuleSet):
        RuleSet.from_file(workmail_rules)  # a bad rule file fails now, before anything is deployed
    if ses_rules is not None and not isinstance(ses_rules, list):
        _read_rules_file(ses_rules, "--ses-rules")
    from .ses.receiving import SesReceiving

    rows: list[dict[str, Any]] = []
    messages = 0
    clients = _RUN_CLIENTS.set({})
    with contextlib.ExitStack() as stack:
        stack.callback(_RUN_CLIENTS.reset, clients)
        sb = stack.enter_context(_sandbox_kept())
        org, _ = _workmail_side(sb, wm_code, workmail_rules, synchronous, wanted, users,
                                dict(workmail_environment or {}), dict(workmail_parameters or {}))
        _ses_side(sb, ses_code, ses_rules, invocation_type, wanted, bucket, prefix, dict(ses_environment or {}),
                  dict(ses_parameters or {}))
        receiving, s3 = SesReceiving(sb), _client(sb, "s3")
        items = _items(source)
        if progress:
            from .mail.corpus import corpus_size
            from .replay import with_progress

            total = len(source) if isinstance(source, (list, tuple)) else corpus_size(root)
            items = with_progress(items, total, True, f"compare {root.name}")
        for item in items:
            messages += 1
            if item.message is None:
                problem = item.error.problem if item.error else "unknown error"
                rows.append(_row(item.name, "", None, "failed", "failed", "error", REASONS["error"],
                                 workmail_detail=str(problem)))
                continue
            try:
                rows += _compare_message(sb, s3, org, receiving, item.name, item.message, direction, junk_header)
            except Exception as exc:  # noqa: BLE001 - one message that breaks must not stop the corpus
                problem = exc.problem if isinstance(exc, WorkMailSandboxError) else f"{type(exc).__name__}: {exc}"
                rows.append(_row(item.name, item.message.subject, None, "failed", "failed", "error",
                                 REASONS["error"], workmail_detail=str(problem)))
    import pandas as pd

    with pd.option_context("mode.string_storage", "python"):
        table = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    return Comparison(table, wm_code.label, f"{ses_code.label} ({invocation_type})" if ses_rules is None
                      else f"{ses_code.label} (rules {ses_rules if not isinstance(ses_rules, list) else 'given'})",
                      messages)
