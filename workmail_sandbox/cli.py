"""The ``workmail-sandbox`` command line: parse, call the library, print.

Kit errors become one line on stderr and an exit code; anything unexpected keeps
its traceback, because it is a bug to report.

One concept: the command line. Each command is a parser block and a ``_cmd_*``
function that calls the library; none holds logic of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__
from .errors import WorkMailSandboxError

EXIT_OK = 0
#: How the sandbox a command starts runs functions (``--isolation``; sandbox.start() reads it).
ISOLATION_ENV = "WORKMAIL_SANDBOX_ISOLATION"
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_INPUT = 3

EXIT_CODES = f"""\
exit codes:
  {EXIT_OK}  success (for check-*: the input is valid)
  {EXIT_INVALID}  the event or response breaks a WorkMail rule (problems on stdout)
  {EXIT_USAGE}  wrong command-line usage
  {EXIT_INPUT}  the input could not be read (missing file, not JSON, not an email)
"""


class _InputError(WorkMailSandboxError):
    """A file the user named cannot be read."""


def _read_bytes(path: str, max_bytes: int, what: str) -> bytes:
    """The bytes of ``path`` ('-' for stdin), at most ``max_bytes``; only regular files are opened."""
    from .errors import MessageParseError
    from .mail.parsing import read_regular_file

    if path == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise _InputError(
                f"stdin: over the {max_bytes:,}-byte limit for {what}.", fix="check what is piped in"
            )
        return data
    try:
        return read_regular_file(path, max_bytes, what=what)
    except MessageParseError as exc:
        raise _InputError(f"{path}: {exc.problem}", fix=exc.fix) from None


def _read_json(path: str) -> Any:
    from .events.serialization import MAX_JSON_BYTES, JSONLimitError, load_json

    data = _read_bytes(path, MAX_JSON_BYTES, "a JSON event or response")
    try:
        return load_json(data)
    except JSONLimitError as exc:
        raise _InputError(f"{path}: {exc.problem}", fix=exc.fix) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _InputError(f"{path}: not valid JSON ({exc}).", fix="pass a JSON file") from None
    except (RecursionError, ValueError) as exc:  # last resort; load_json's checks should prevent these
        raise _InputError(f"{path}: the JSON cannot be read ({type(exc).__name__}).", fix="pass a JSON file") from None


def _indent(text: str) -> int:
    """argparse type for --indent: an int from 0 to 16."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if not 0 <= value <= MAX_INDENT:
        raise argparse.ArgumentTypeError(f"must be from 0 to {MAX_INDENT}, got {value}")
    return value


MAX_INDENT = 16


def _print_json(value: Any, indent: int | None) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=indent)
    sys.stdout.write("\n")


# ---------------------------------------------------------------------- commands


def _cmd_event(args: argparse.Namespace) -> int:
    from .errors import MessageParseError
    from .events import SmtpEnvelope, events_from_message
    from .mail import MAX_MESSAGE_BYTES, parse_message

    try:
        message = parse_message(_read_bytes(args.file, MAX_MESSAGE_BYTES, "a message"), headers_only=True)
    except MessageParseError as exc:
        raise MessageParseError(f"{args.file}: {exc.problem}", fix=exc.fix) from None
    envelope = SmtpEnvelope(mail_from=args.mail_from, recipients=args.rcpt or None)
    events = events_from_message(
        message,
        direction=args.direction,
        org_domains=args.org_domain,
        envelope=envelope,
        conversations=args.conversations,
        summary_version=args.summary_version,
    )
    _print_json([e.to_dict() for e in events], args.indent)
    return EXIT_OK


def _cmd_ses_event(args: argparse.Namespace) -> int:
    from .errors import MessageParseError
    from .mail import MAX_MESSAGE_BYTES, parse_message
    from .ses import build_ses_event

    try:
        message = parse_message(_read_bytes(args.file, MAX_MESSAGE_BYTES, "a message"), headers_only=True)
    except MessageParseError as exc:
        raise MessageParseError(f"{args.file}: {exc.problem}", fix=exc.fix) from None
    event = build_ses_event(message, recipients=args.recipient or None, sender=args.sender,
                            function_arn=args.function_arn, invocation_type=args.invocation_type)
    _print_json(event, args.indent)
    return EXIT_OK


def _cmd_compare(args: argparse.Namespace) -> int:
    from .migrate import compare_port
    from .replay import SAMPLE_DOMAINS, escape_surrogates

    comparison = compare_port(
        args.source, args.workmail_project or args.workmail_function, args.ses_project or args.ses_function,
        workmail_rules=args.rules, synchronous=not args.asynchronous, ses_rules=args.ses_rules,
        invocation_type=args.invocation_type, domains=tuple(args.org_domain) or SAMPLE_DOMAINS,
        junk_header=args.junk_header, workmail_parameters=dict(args.workmail_parameter),
        ses_parameters=dict(args.ses_parameter), progress=not args.no_progress,
    )
    print(escape_surrogates(comparison.report()))
    if args.csv:
        print(f"table ({len(comparison.table)} rows) written to {comparison.to_csv(args.csv)}")
    elif len(comparison.differences):
        shown = comparison.differences[["message", "recipient", "workmail", "ses", "reason"]]
        print("\n" + escape_surrogates(shown.to_string(index=False)))
    return EXIT_OK if comparison.agreed else EXIT_INVALID


def _junk_header(text: str) -> tuple[str, str]:
    """argparse type for --junk-header: NAME:VALUE."""
    name, colon, value = text.partition(":")
    if not colon or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"expected NAME:VALUE, e.g. X-Spam-Flag:YES, got {text!r}")
    return name.strip(), value.strip()


def _cmd_check_event(args: argparse.Namespace) -> int:
    from .events import WorkMailEvent, check_event

    data = _read_json(args.file)
    problems = check_event(data, strict=not args.lenient)
    if problems:
        for problem in problems:
            print(f"invalid: {problem}")
        return EXIT_INVALID
    event = WorkMailEvent(data)
    print(
        f"valid: {event.flow_direction or 'legacy'} event from {event.envelope.mail_from} "
        f"to {len(event.envelope.recipients)} recipient(s), {event.size:,} bytes, "
        f"truncated={str(event.truncated).lower()}"
    )
    return EXIT_OK


def _cmd_check_response(args: argparse.Namespace) -> int:
    from .responses import resolve_response

    data = _read_json(args.file)
    resolution = resolve_response(
        data,
        direction=args.direction,
        recipients=args.recipient,
        org_domains=args.org_domain,
        fallback=args.fallback,
    )
    if args.json:
        _print_json(
            {
                "valid": resolution.valid,
                "problems": [str(p) for p in resolution.problems],
                "decisions": resolution.to_records(),
            },
            2,
        )
    else:
        print(resolution.report())
    return EXIT_OK if resolution.valid else EXIT_INVALID


def _cmd_test_rule(args: argparse.Namespace) -> int:
    from .rules import RuleSet

    rules = RuleSet.from_file(args.rules)
    evaluation = rules.test_configuration(args.sender, args.recipient, args.direction, from_address=args.from_address)
    print(evaluation.explain())
    return EXIT_OK


#: Set in the environment of a command already running without a network (``--no-network``).
_ISOLATED_ENV = "WORKMAIL_SANDBOX_NO_NETWORK"


def _run_without_network(args: argparse.Namespace) -> int:
    """Run this same command line again in a network namespace of its own; its exit status."""
    import os
    import subprocess

    from .network import without_network

    command = without_network([sys.executable, "-m", "workmail_sandbox.cli", *args.argv])
    done = subprocess.run(command, env={**os.environ, _ISOLATED_ENV: "1"}, check=False)
    return done.returncode


def _cmd_replay(args: argparse.Namespace) -> int:
    import os

    if args.no_network and os.environ.get(_ISOLATED_ENV) != "1":
        return _run_without_network(args)
    from .replay import SAMPLE_DOMAINS, ReplayCounts, escape_surrogates
    from .replay_folder import replay_folder
    from .replay_summary import ReplaySummary

    counts, summary = ReplayCounts(), ReplaySummary()
    outputs = [f"{name} {path}" for name, path in (("CSV", args.csv), ("Parquet", args.parquet)) if path]
    where = " and ".join(outputs) if outputs else "the table above"
    try:
        frame = replay_folder(
            args.source,
            args.rules,
            function=args.function,
            project=args.project,
            parameters=dict(args.parameter),
            skip=tuple(args.skip),
            stand_ins=args.stand_ins,
            csv=args.csv,
            parquet=args.parquet,
            domains=tuple(args.org_domain) or SAMPLE_DOMAINS,
            direction=args.direction,
            progress=not args.no_progress,
            counts=counts,
            jobs=args.jobs,
            client=args.dask, summary=summary, keep_rows=not outputs,  # rows written to files are not kept
        )
    except KeyboardInterrupt:
        kept = f"; the rows so far are in {where}" if outputs else ""
        print(f"workmail-sandbox: interrupted after {counts.line()}{kept}", file=sys.stderr)
        return 130
    if not outputs:
        print(escape_surrogates(frame.to_string(index=False)))
    if summary.messages:
        print("\n" + escape_surrogates(summary.text()) + "\n")
    written = f"written to {where}" if outputs else "printed above"
    print(
        f"replayed {counts.routed + counts.failed} messages: {counts.routed} routed, {counts.failed} failed; "
        f"{counts.rows} recipient rows {written}"
    )
    if counts.failed:
        detail = ", ".join(f"{n} at {stage}" for stage, n in summary.errors.most_common())
        print(f"{counts.failed} message(s) failed ({detail}): see the error_stage and error columns", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


def _parameter(text: str) -> tuple[str, str]:
    """argparse type for --parameter: KEY=VALUE."""
    key, equals, value = text.partition("=")
    if not equals or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value


def _cmd_invoke(args: argparse.Namespace) -> int:
    import os

    if args.no_network and os.environ.get(_ISOLATED_ENV) != "1":
        return _run_without_network(args)
    from .errors import MessageParseError
    from .project_invoke import invoke_project
    from .replay import escape_surrogates

    try:
        run = invoke_project(
            args.project,
            args.eml,
            function=args.function,
            mode=args.mode,
            parameters=dict(args.parameter),
            stand_ins=args.stand_ins,
            skip=tuple(args.skip),
            direction=args.direction,
            domains=tuple(args.org_domain) or None,
        )
    except MessageParseError:
        raise
    except WorkMailSandboxError as exc:  # the project, a parameter, the stand-ins: the input
        raise _InputError(exc.problem, fix=exc.fix) from None
    if args.json:
        sys.stdout.write(escape_surrogates(json.dumps(run.to_dict(), ensure_ascii=False, default=str)) + "\n")
    else:
        print(escape_surrogates(run.report()))
    return EXIT_OK if run.ok else EXIT_INVALID


def _isolation_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--isolation", choices=["process", "in-process"], default="process",
        help="run functions in worker processes of their own (default: a crash, a timeout or a memory blow-up "
        "cannot take this command down) or in this process (faster start; docs/isolation.md)",
    )


def _cmd_serve(args: argparse.Namespace) -> int:
    import signal
    import threading

    from .endpoint import serve

    smtp_port = None if args.no_smtp else args.smtp_port
    endpoint = serve(args.port, smtp_port=smtp_port, submission_port=args.submission_port, host=args.host,
                     allow_remote=args.allow_remote)  # fmt: skip
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    print(f"workmail-sandbox: serving the sandbox ({endpoint.sandbox.region}) at {endpoint.url}")
    if endpoint.smtp is not None:
        submission = f", submission (AUTH) on port {endpoint.smtp.submission_port}" if args.submission_port else ""
        print(f"  SMTP door on {args.host}:{endpoint.smtp_port}{submission}")
    print(f"  sandbox controls: {endpoint.url}/workmail-sandbox-api/ (docs/endpoint.md)")
    print("Export these to use it from a shell, a CI job or any AWS SDK (no authentication: loopback only):")
    print(endpoint.exports(), flush=True)
    try:
        stopping.wait()
    finally:
        endpoint.stop()
        print("workmail-sandbox: stopped", flush=True)
    return EXIT_OK


def _cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import run_checks

    checks = run_checks(start_sandbox=not args.no_sandbox)
    for check in checks:
        print(check.line())
    failed = [c for c in checks if c.required and not c.ok]
    print("All required checks passed." if not failed else f"{len(failed)} required check(s) failed.")
    return EXIT_OK if not failed else EXIT_INVALID


def _cmd_coverage(args: argparse.Namespace) -> int:
    from .emulators import coverage_markdown

    sys.stdout.write(coverage_markdown())
    return EXIT_OK


# ------------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workmail-sandbox",
        description="Offline tools for Amazon WorkMail Run Lambda rules: build and check events and responses.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    event = command(
        "event", "Print the events WorkMail would send for an .eml file (a JSON list, one per SMTP conversation)."
    )
    event.add_argument("file", metavar="FILE.eml", help="the message; '-' reads stdin")
    event.add_argument("--direction", choices=["inbound", "outbound"], default="inbound", type=str.lower)
    event.add_argument(
        "--org-domain", action="append", default=[], metavar="D",
        help="an organization mail domain (repeat); inbound events keep only these recipients",
    )
    event.add_argument("--mail-from", metavar="A", help="the SMTP MAIL FROM; wins over the From header")
    event.add_argument("--rcpt", action="append", metavar="A", help="an SMTP RCPT TO (repeat); replaces To, Cc and Bcc")
    event.add_argument(
        "--conversations", choices=["single", "per-domain"], default="single",
        help="one SMTP conversation for all recipients (default) or one per recipient domain",
    )
    event.add_argument("--summary-version", default="2018-10-10", choices=["2018-10-10", "2019-07-28"])
    event.add_argument("--indent", type=_indent, default=2, help="JSON indent, 0 to 16 (default 2)")
    event.set_defaults(func=_cmd_event)

    ses_event = command(
        "ses-event", "Print the event an Amazon SES receipt rule's Lambda action would send for an .eml file (JSON)."
    )
    ses_event.add_argument("file", metavar="FILE.eml", help="the message; '-' reads stdin")
    ses_event.add_argument("--recipient", action="append", metavar="A",
                           help="an envelope recipient the rule matched (repeat); default: To, Cc and Bcc")
    ses_event.add_argument("--sender", metavar="A", help="the envelope MAIL FROM; default: the From address")
    ses_event.add_argument("--function-arn", metavar="ARN",
                           default="arn:aws:lambda:us-east-1:123456789012:function:IncomingEmail")
    ses_event.add_argument("--invocation-type", choices=["Event", "RequestResponse"], default="Event")
    ses_event.add_argument("--indent", type=_indent, default=2, help="JSON indent, 0 to 16 (default 2)")
    ses_event.set_defaults(func=_cmd_ses_event)

    check_event = command("check-event", "Check an event JSON file against WorkMail's documented rules.")
    check_event.add_argument("file", metavar="FILE.json", help="the event; '-' reads stdin")
    check_event.add_argument(
        "--lenient", action="store_true",
        help="accept pre-2020 events (no messageId, invocationId, flowDirection) and undocumented fields",
    )
    check_event.set_defaults(func=_cmd_check_event)

    check_response = command(
        "check-response", "Check a synchronous response and print the decision for each recipient."
    )
    check_response.add_argument("file", metavar="FILE.json", help="the function's response; '-' reads stdin")
    check_response.add_argument("--direction", choices=["inbound", "outbound"], required=True, type=str.lower)
    check_response.add_argument(
        "--recipient", action="append", required=True, metavar="A", help="a recipient of the event (repeat)"
    )
    check_response.add_argument("--org-domain", action="append", default=[], metavar="D")
    check_response.add_argument("--fallback", default="DEFAULT", type=str.upper, help="the rule's fallback action")
    check_response.add_argument("--json", action="store_true", help="print the result as JSON")
    check_response.set_defaults(func=_cmd_check_response)

    coverage = command(
        "coverage", "Print which operations of workmail, workmailmessageflow and serverlessrepo the sandbox emulates."
    )
    coverage.set_defaults(func=_cmd_coverage)

    test_rule = command(
        "test-rule",
        "Which email flow rule applies to one sender and recipient, and why (the console's Test configuration).",
    )
    test_rule.add_argument("--rules", required=True, metavar="FILE", help="a rule set (.json, .yaml)")
    test_rule.add_argument("--sender", required=True, metavar="A", help="the sender (From; or Sender with --from)")
    test_rule.add_argument("--recipient", required=True, metavar="B")
    test_rule.add_argument(
        "--from", dest="from_address", metavar="A", help="the From address when --sender is the Sender header"
    )
    test_rule.add_argument("--direction", choices=["inbound", "outbound"], default="inbound", type=str.lower)
    test_rule.set_defaults(func=_cmd_test_rule)

    invoke = command(
        "invoke",
        "Deploy a SAM project and run its function on one .eml file through a Run Lambda rule, as WorkMail "
        "would (like sam local invoke): where each recipient's copy went, how the message changed, the "
        "function's log and the AWS calls it made.",
    )
    invoke.add_argument("project", metavar="PROJECT_DIR", help="the SAM project's folder (with template.yaml)")
    invoke.add_argument("--eml", required=True, metavar="MAIL", help="the message (.eml file)")
    invoke.add_argument(
        "--function", metavar="LOGICAL_ID", help="the function's logical id (needed when the project has several)"
    )
    modes = invoke.add_mutually_exclusive_group()
    modes.add_argument(
        "--sync", dest="mode", action="store_const", const="sync",
        help="a synchronous rule: the function's response decides delivery (default)",
    )
    modes.add_argument(
        "--async", dest="mode", action="store_const", const="async",
        help="an asynchronous rule: the function runs while the message is delivered",
    )
    invoke.set_defaults(mode="sync")
    invoke.add_argument(
        "--parameter", action="append", default=[], type=_parameter, metavar="KEY=VALUE",
        help="a template parameter (repeat); OrganizationId is filled in with the organization's id",
    )
    invoke.add_argument(
        "--stand-ins", metavar="FILE", help="a stand-in file (.yaml or .py) answering calls nothing else answers"
    )
    invoke.add_argument(
        "--skip", action="append", default=[], metavar="LOGICAL_ID",
        help="leave this resource (or resource type) out of the stack (repeat)",
    )
    invoke.add_argument("--direction", choices=["inbound", "outbound"], default="inbound", type=str.lower)
    invoke.add_argument(
        "--org-domain", action="append", default=[], metavar="D",
        help="an organization domain (repeat; default: the recipients' domains, outbound the sender's)",
    )
    invoke.add_argument("--json", action="store_true", help="print one JSON object instead of the text report")
    invoke.add_argument(
        "--no-network", action="store_true",
        help="run in a network namespace of its own (Linux, unshare -rn): nothing can reach a network",
    )
    invoke.epilog = EXIT_CODES + (
        "invoke: 0 when the function ran without error; 1 when it failed (an error, a timeout, or a\n"
        "  synchronous response WorkMail cannot use) or was not invoked (e.g. SES blocked the message);\n"
        "  3 when the project, the message, a parameter or the stand-in file cannot be used\n"
    )
    _isolation_option(invoke)
    invoke.set_defaults(func=_cmd_invoke)

    replay = command(
        "replay", "Route a folder of .eml files, an mbox or a Maildir through a rule set in a fresh sandbox."
    )
    replay.add_argument("source", metavar="DIR", help="a folder of .eml files, an mbox file or a Maildir")
    replay.add_argument("--rules", required=True, metavar="FILE")
    replay.add_argument(
        "--function", metavar="PATH:HANDLER",
        help="a Python file and handler for the rule set's Run Lambda rules; with --project, the project's "
        "function by its logical id",
    )
    replay.add_argument(
        "--project", metavar="PROJECT_DIR",
        help="deploy this SAM project (as sam build and sam deploy would) and run its function for the rule "
        "set's Run Lambda rules",
    )
    replay.add_argument(
        "--parameter", action="append", default=[], type=_parameter, metavar="KEY=VALUE",
        help="a template parameter of --project (repeat); OrganizationId is filled in with the organization's id",
    )
    replay.add_argument(
        "--skip", action="append", default=[], metavar="LOGICAL_ID",
        help="leave this resource of --project out of the stack (repeat)",
    )
    replay.add_argument(
        "--stand-ins", metavar="FILE", help="a stand-in file (.yaml or .py) answering calls nothing else answers"
    )
    replay.add_argument(
        "--csv", metavar="OUT",
        help="write one row per recipient (or per failed file) to this CSV file, as the run goes",
    )
    replay.add_argument(
        "--parquet", metavar="OUT", help="also write the rows to this Parquet file (needs pyarrow)"
    )
    replay.add_argument("--dask", metavar="SCHEDULER_ADDRESS", help="route the corpus on this Dask cluster, e.g. "
                        "tcp://127.0.0.1:8786 (docs/replay.md); needs pip install 'workmail-sandbox[scale]'")
    replay.add_argument(
        "--org-domain", action="append", default=[], metavar="D",
        help="organization domains (default: the sample domains)",
    )
    replay.add_argument("--direction", choices=["auto", "inbound", "outbound"], default="auto")
    replay.add_argument("--no-progress", action="store_true")
    replay.add_argument(
        "--jobs", type=int, default=1, metavar="N",
        help="route the corpus in N worker processes, each with its own sandbox (default 1; this machine has "
        f"{os.cpu_count() or 1} CPUs); the rows stay in the corpus's order",
    )
    replay.add_argument(
        "--no-network", action="store_true",
        help="run the replay in a network namespace of its own (Linux, unshare -rn), so that nothing it "
        "starts, subprocesses and C code included, can reach a network (docs/safety.md)",
    )
    replay.epilog = EXIT_CODES + (
        "replay: 0 when every message was routed; 1 when any could not be read, parsed, routed or written\n"
        "  (its row says why: columns error_stage and error), or a bad option or output path;\n"
        "  130 when interrupted (the CSV keeps the rows written so far)\n"
    )
    _isolation_option(replay)
    replay.set_defaults(func=_cmd_replay)

    compare = command(
        "compare", "Run a corpus through WorkMail with a Run Lambda function and through SES receiving with its "
        "port; print where they differ (docs/migrating.md).",
    )
    compare.add_argument("source", metavar="DIR", help="a folder of .eml files, an mbox file or a Maildir")
    workmail_side = compare.add_mutually_exclusive_group(required=True)
    workmail_side.add_argument("--workmail-project", metavar="DIR", help="the WorkMail function's SAM project")
    workmail_side.add_argument("--workmail-function", metavar="PATH:HANDLER", help="or its Python file and handler")
    ses_side = compare.add_mutually_exclusive_group(required=True)
    ses_side.add_argument("--ses-project", metavar="DIR", help="the port's SAM project")
    ses_side.add_argument("--ses-function", metavar="PATH:HANDLER", help="or its Python file and handler")
    compare.add_argument("--rules", metavar="FILE", help="WorkMail rule file; its Run Lambda rules run the function "
                         "(default: one synchronous rule for all inbound mail)")
    compare.add_argument("--async", dest="asynchronous", action="store_true",
                         help="the default WorkMail rule is asynchronous")
    compare.add_argument("--ses-rules", metavar="FILE", help="receipt rules (JSON or YAML); a LambdaAction without "
                         "FunctionArn runs the port (default: one rule, an S3 action then the port)")
    compare.add_argument("--invocation-type", choices=["RequestResponse", "Event"], default="RequestResponse",
                         help="the default rule's Lambda action (default RequestResponse)")
    compare.add_argument("--workmail-parameter", action="append", default=[], type=_parameter, metavar="KEY=VALUE")
    compare.add_argument("--ses-parameter", action="append", default=[], type=_parameter, metavar="KEY=VALUE")
    compare.add_argument("--org-domain", action="append", default=[], metavar="D",
                         help="the mail domains of both sides (default: the sample domains)")
    compare.add_argument("--junk-header", type=_junk_header, default=("X-Spam-Flag", "YES"), metavar="NAME:VALUE",
                         help="a stored copy with this header counts as junk (default X-Spam-Flag:YES)")
    compare.add_argument("--csv", metavar="OUT", help="write the whole table (one row per message and recipient)")
    compare.add_argument("--no-progress", action="store_true")
    compare.epilog = EXIT_CODES + "compare: 0 when every inbound recipient agrees; 1 when any differs or fails\n"
    compare.set_defaults(func=_cmd_compare)

    serve = command(
        "serve",
        "Serve the sandbox on 127.0.0.1 as an AWS endpoint (AWS CLI, any SDK) and an SMTP door, until Ctrl-C.",
    )
    serve.add_argument("--port", type=int, default=5055, help="the HTTP endpoint's port (default 5055; 0: any)")
    serve.add_argument("--smtp-port", type=int, default=2525, help="the SMTP door's port (default 2525; 0: any)")
    serve.add_argument("--no-smtp", action="store_true", help="do not open the SMTP door")
    serve.add_argument(
        "--submission-port", type=int, default=None, metavar="N",
        help="also open an authenticated submission port (users of the organization send outbound mail)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    serve.add_argument(
        "--allow-remote", action="store_true",
        help="allow a non-loopback --host: the sandbox has no authentication, so only on a network you trust",
    )
    _isolation_option(serve)
    serve.set_defaults(func=_cmd_serve)

    doctor = command(
        "doctor", "Check Python, the packages, the sandbox (or AWS credentials in aws mode) and say what to fix."
    )
    doctor.add_argument("--no-sandbox", action="store_true", help="skip starting the sandbox")
    doctor.set_defaults(func=_cmd_doctor)
    return parser


def _check_replay_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """--function PATH:HANDLER and --project exclude each other; --parameter and --skip need --project; --jobs >= 1."""
    if args.jobs < 1:
        parser.error(f"--jobs must be 1 or more (this machine has {os.cpu_count() or 1} CPUs), got {args.jobs}")
    if args.dask and (args.jobs != 1 or args.no_network):
        parser.error("--dask excludes --jobs (the cluster's workers do the work) and --no-network (no cluster then)")
    if args.project and args.function and (":" in args.function or args.function.endswith(".py")):
        parser.error(
            "--function PATH:HANDLER and --project are mutually exclusive: with --project, --function names "
            "the project's function by its logical id (e.g. --function TagExternalFunction)"
        )
    if not args.project:
        given = [name for name, value in (("--parameter", args.parameter), ("--skip", args.skip)) if value]
        if given:
            parser.error(f"{' and '.join(given)} apply to a SAM project: give it with --project PROJECT_DIR")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workmail-sandbox`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.command == "event" and args.direction == "inbound" and not args.org_domain:
        parser.error(
            "inbound events list only recipients in the organization's domains: "
            "give them with --org-domain (repeat for each domain)"
        )
    if args.command == "replay":
        _check_replay_options(parser, args)
    import os

    isolation = getattr(args, "isolation", None)
    previous = os.environ.get(ISOLATION_ENV)
    if isolation:  # the sandbox the command starts runs functions so (sandbox.start() reads it)
        os.environ[ISOLATION_ENV] = isolation
    try:
        return args.func(args)
    except _InputError as exc:
        print(f"workmail-sandbox: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except WorkMailSandboxError as exc:
        from .errors import MessageParseError

        print(f"workmail-sandbox: error: {exc}", file=sys.stderr)
        return EXIT_INPUT if isinstance(exc, MessageParseError) else EXIT_INVALID
    except BrokenPipeError:  # `workmail-sandbox event big.eml | head`
        return EXIT_OK
    finally:
        if isolation:
            if previous is None:
                os.environ.pop(ISOLATION_ENV, None)
            else:
                os.environ[ISOLATION_ENV] = previous


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
