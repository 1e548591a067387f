"""Long texts shown short: a summary first, the whole text one click (or one call) away.

A lesson's output should fit on the screen. :class:`LongText` displays a few
summary lines; in HTML the full text sits below them in a collapsed
``<details>`` block, and ``.full`` (or ``print(x.full)``) gives all of it.
Three helpers build one:

* :func:`show_text`: any text, cut to its first lines;
* :func:`show_template`: a CloudFormation/SAM template as an outline
  (parameters, resources and their types, outputs);
* :func:`show_error`: an AWS error (an ``AccessDeniedException`` message, a
  Lambda error payload, a botocore ``ClientError``) as who may not do what on
  which resource, and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from ..errors import ConfigurationError, SandboxError
from ..sam.templates import load_template
from ._common import STYLE_TAG, esc

__all__ = ["LongText", "show_error", "show_template", "show_text"]

#: Texts longer than this are refused: a notebook helper reads a template or a message, not a corpus.
#: (1 MB is also CloudFormation's largest template body, read from S3.)
MAX_CHARS = 1_000_000


class LongText:
    """A short ``summary`` for the screen, and the ``full`` text behind it.

    As a cell's last value it shows the summary (plain text), or the summary
    and a collapsed ``<details>`` block holding the full text (HTML, JupyterLab).
    ``str(x)`` is the summary; ``x.full`` the whole text.
    """

    def __init__(self, summary: str, full: str, *, title: str = "Full text") -> None:
        self.summary = summary
        self.full = full
        self.title = title

    def __str__(self) -> str:
        return self.summary

    def __repr__(self) -> str:
        return self.summary

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.summary)

    def _repr_html_(self) -> str:
        lines = self.full.count("\n") + 1
        return (
            f'{STYLE_TAG}<pre class="wms-pre wms-long-summary">{esc(self.summary)}</pre>'
            f'<details class="wms-long-details"><summary>{esc(self.title)} ({lines:,} line'
            f'{"s" if lines != 1 else ""}, {len(self.full):,} characters)</summary>'
            f'<pre class="wms-pre wms-long-full">{esc(self.full)}</pre></details>'
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        return {"text/plain": self.summary, "text/html": self._repr_html_()}


def _text(value: Any, what: str, example: str) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        raise ConfigurationError(
            f"{what} takes text, got {type(value).__name__}.", fix=f"pass the text itself, for example {example}"
        )
    if len(value) > MAX_CHARS:
        raise ConfigurationError(
            f"{what} got {len(value):,} characters; it shows at most {MAX_CHARS:,}.",
            fix="pass one document, or read the part you need with Python first",
        )
    return value


def show_text(text: str, *, lines: int = 12, title: str = "Full text") -> LongText:
    """The first ``lines`` lines of ``text``, then ``… N more lines``; the whole text is ``.full``."""
    text = _text(text, "show_text", "show_text(open('x.txt').read())")
    all_lines = text.splitlines()
    if len(all_lines) <= lines:
        return LongText(text.rstrip("\n"), text, title=title)
    hidden = len(all_lines) - lines
    more = f"… {hidden:,} more line{'s' if hidden != 1 else ''} (.full has them all)"
    summary = "\n".join([*all_lines[:lines], more])
    return LongText(summary, text, title=title)


def _scalar(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "…"
    return repr(value) if isinstance(value, str) else str(value)


def show_template(template_text: str, *, full: bool = False) -> LongText:
    """A CloudFormation or SAM template as a short outline, with the whole text behind it.

    The outline names the transform, each parameter with its default, each
    resource with its type, and each output: what to read before you deploy.
    In JupyterLab the whole template is one click away (a collapsed block);
    ``full=True`` shows it all, and ``.full`` is the text.
    """
    text = _text(template_text, "show_template", 'show_template(lessons.read_template(version["TemplateUrl"]))')
    try:
        # Aliases first, event by event (linear): an outline never expands a "billion laughs" file.
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                raise ConfigurationError(
                    f"show_template refuses YAML aliases (line {mark.line + 1 if mark else '?'}): "
                    "templates do not need them.",
                    fix="write the repeated value out in full",
                )
        template = load_template(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigurationError(
            f"show_template could not read the template as YAML or JSON: {problem}{where}.",
            fix='pass the template text, as lessons.read_template(version["TemplateUrl"]) returns it',
        ) from None
    except SandboxError as exc:
        raise ConfigurationError(str(exc.problem), fix=exc.fix) from None
    count = text.count("\n") + (0 if text.endswith("\n") else 1)
    head = f"Template: {count:,} lines"
    if template.get("Transform"):
        head += f", Transform {_scalar(template['Transform'])}"
    out = [head]
    description = template.get("Description")
    if isinstance(description, str) and description.strip():
        first = description.strip().split(". ")[0]
        out.append(f"  {first if len(first) <= 100 else first[:99] + '…'}")
    parameters = template.get("Parameters")
    if isinstance(parameters, Mapping) and parameters:
        out.append("Parameters:")
        for name, spec in parameters.items():
            default = spec.get("Default") if isinstance(spec, Mapping) else None
            out.append(f"  {name}" + (f" (default {_scalar(default)})" if default is not None else ""))
    resources = template["Resources"]
    out.append(f"Resources ({len(resources)}):")
    width = max((len(str(name)) for name in resources), default=0)
    for name, spec in resources.items():
        kind = spec.get("Type", "?") if isinstance(spec, Mapping) else "?"
        out.append(f"  {str(name):{width}}  {kind}")
    outputs = template.get("Outputs")
    if isinstance(outputs, Mapping) and outputs:
        out.append("Outputs: " + ", ".join(str(name) for name in outputs))
    if not full:
        out.append("The whole template: .full, or show_template(text, full=True).")
        return LongText("\n".join(out), text, title="The whole template")
    return LongText(text.rstrip("\n"), text, title="The whole template")


_ERROR_HEAD = re.compile(r"An error occurred \((?P<code>[\w.]+)\) when calling the (?P<operation>\w+) operation: ")
_DENIED = re.compile(
    r"User: (?P<who>\S+) is not authorized to perform: (?P<action>\S+) on resource: (?P<resource>\S+)"
    r"(?: (?P<why>because no [\w-]+ policy allows the \S+ action|with an explicit deny in an? [\w-]+ policy))?"
)
_FIX = re.compile(r"\bFix: (?P<fix>[^\n]+?)\)?\s*$")
_ARN = re.compile(r"arn:[\w-]+:(?P<service>[\w-]+):[\w-]*:\d*:(?P<rest>\S+)")
_LONG_ID = re.compile(r"(?<![\w-])([0-9a-fm][0-9a-f-]{15,})(?![\w-])")


def _short_arn(arn: str) -> str:
    """``arn:aws:sts::1:assumed-role/r/f`` -> ``role r``; other ARNs keep their resource part, ids cut."""
    match = _ARN.fullmatch(arn)
    if match is None:
        return arn
    rest = match["rest"]
    if match["service"] == "sts" and rest.startswith("assumed-role/"):
        return "role " + rest.split("/")[1]
    if match["service"] == "iam" and "/" in rest:
        kind, _, name = rest.partition("/")
        return f"{kind} {name.rsplit('/', 1)[-1]}"
    return _LONG_ID.sub(lambda m: m.group(1)[:8] + "…", rest)


def show_error(error: Any, *, full: bool = False) -> LongText:
    """An AWS error in two short lines: who may not do what on which resource, and the fix.

    ``error`` is the error message, a Lambda error payload (``{"errorType",
    "errorMessage"}``, as ``json.loads(invoke(...)["Payload"].read())`` gives
    when the function failed), or a botocore ``ClientError``. An
    ``AccessDeniedException`` message ("User: ... is not authorized to perform:
    ... on resource: ...", as IAM words it) is summarised; any other message
    keeps its first line, cut at 200 characters. ``.full`` is the whole message.
    """
    if isinstance(error, Mapping):
        message = error.get("errorMessage")
        if not isinstance(message, str):
            raise ConfigurationError(
                "show_error got a mapping without an errorMessage.",
                fix='pass json.loads(answer["Payload"].read()) of a failed invoke, or the message text',
            )
        kind = error.get("errorType")
    elif isinstance(error, BaseException):
        message, kind = str(error), type(error).__name__
    else:
        message, kind = _text(error, "show_error", 'show_error(error["errorMessage"])'), None
    head = _ERROR_HEAD.search(message[:2000])
    denied = _DENIED.search(message[:20_000])
    if denied is None:
        first = message.strip().splitlines()[0] if message.strip() else "(empty message)"
        summary = first if len(first) <= 200 else first[:199] + "…"
        if kind and kind not in summary:
            summary = f"{kind}: {summary}"
    else:
        code = head["code"] if head else "AccessDenied"
        operation = f" calling {head['operation']}" if head else ""
        why = denied["why"] or ""
        if why.startswith("because"):
            why = "no " + why.split("because no ", 1)[1].split(" allows ")[0] + " allows it"
        lines = [
            f"{code}{operation}: {_short_arn(denied['who'])} may not call {denied['action']} "
            f"on {_short_arn(denied['resource'])}" + (f" ({why})" if why else "")
        ]
        fix = _FIX.search(message[-2000:])
        if fix:
            lines.append("Fix: " + fix["fix"].rstrip(". ") + ".")
        summary = "\n".join(lines)
    if full:
        return LongText(message, message, title="The whole message")
    return LongText(summary, message, title="The whole message")
