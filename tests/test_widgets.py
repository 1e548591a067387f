"""Tests for workmail_sandbox.widgets, driven through their Python API and control values.

No browser here: the live views are checked by the browser test; this file
checks what the widgets compute and show, and their static fallbacks.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("ipywidgets")

from workmail_sandbox import PAYLOAD_LIMIT_BYTES, EventError, MessageParseError, build_event  # noqa: E402
from workmail_sandbox.widgets import (  # noqa: E402
    EventBuilder,
    EventInspector,
    JsonView,
    MessageViewer,
    events_table,
    show_json,
)
from workmail_sandbox.widgets.event_inspector import EVENT_COLUMNS  # noqa: E402
from workmail_sandbox.widgets.message_viewer import TAB_TITLES, sandboxed_iframe  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EMAILS = ROOT / "data" / "emails"
EVENTS = ROOT / "data" / "events"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
FIXED = {"message_id": "5f1c6e2a-0000-4000-8000-000000000001", "invocation_id": "0123456789abcdef0123456789abcdef"}


def email(prefix: str) -> Path:
    (path,) = EMAILS.glob(f"{prefix}-*.eml")
    return path


def hidden(widget) -> bool:
    return widget.layout.display == "none"


def builder(**kw) -> EventBuilder:
    args = {"mail_from": "alice@example.org", "recipients": ["bob@example.com"], "subject": "Hello", **FIXED}
    args.update(kw)
    return EventBuilder(**args)


# ------------------------------------------------------------------ EventBuilder


def test_builder_makes_the_kits_event():
    b = builder(on_behalf_of="assistant@example.org", direction="outbound")
    expected = build_event(
        mail_from="alice@example.org",
        recipients=["bob@example.com"],
        subject="Hello",
        sender="assistant@example.org",
        direction="outbound",
        **FIXED,
    )
    assert b.event == expected
    assert b.error is None
    assert not b.subject_was_cut and b.dropped_recipients == []
    assert all(hidden(f) for f in (b.error_flag, b.dropped_flag, b.subject_cut_flag, b.truncated_flag))
    assert '"flowDirection": "OUTBOUND"' in b.preview.value


def test_ids_are_generated_once_per_widget_not_per_keystroke():
    b = EventBuilder(mail_from="alice@example.org", recipients=["bob@example.com"])
    first = (b.event.message_id, b.event.invocation_id)
    b.subject_input.value = "changed"
    b.set(recipients=["carol@example.com"])
    assert (b.event.message_id, b.event.invocation_id) == first
    assert first[0] and first[1]
    assert EventBuilder(mail_from="a@example.org", recipients=["b@example.com"]).event.message_id != first[0]


def test_subject_cut_flag_follows_the_subject_control():
    b = builder()
    b.subject_input.value = "x" * 300  # through the control, as a learner types
    assert b.subject_was_cut
    assert b.event.subject == "x" * 256
    assert not hidden(b.subject_cut_flag)
    assert "subject cut: 300 → 256 characters" in b.subject_cut_flag.value
    assert "300 / 256 characters" in b.subject_count.value
    assert "x" * 256 + '"' in b.preview.value and "x" * 257 not in b.preview.value
    b.subject_input.value = "short"
    assert not b.subject_was_cut and hidden(b.subject_cut_flag)
    assert "5 / 256 characters" in b.subject_count.value


def test_subject_is_counted_in_characters_not_bytes():
    b = builder(subject="😀" * 256)
    assert not b.subject_was_cut and b.event.subject == "😀" * 256


def test_generated_recipients_truncate_the_event():
    b = builder(recipients=[])
    b.generate_count.value = 10_000
    b.generate_button.click()
    assert b.recipients_input.value.splitlines()[:2] == ["user00001@example.com", "user00002@example.com"]
    assert len(b.recipients_input.value.splitlines()) == 10_000
    event = b.event
    assert event.truncated
    kept = len(event.envelope.recipients)
    assert 0 < kept < 10_000 and event.size <= PAYLOAD_LIMIT_BYTES
    assert not hidden(b.truncated_flag)
    flag = f"truncated: true — {kept:,} of 10,000 recipients kept, {event.size:,} bytes of 131,072"
    assert flag in b.truncated_flag.value
    assert '"truncated": true' in b.preview.value
    # The preview stays small: head and tail of the recipients and a "more" line.
    assert f"… {kept - 15:,} more …" in b.preview.value
    assert len(b.preview.value) < 5_000
    assert "user00001@example.com" in b.preview.value and f"user{kept:05d}@example.com" in b.preview.value


def test_generated_recipients_continue_numbering_and_use_the_org_domain():
    b = builder(recipients=["bob@example.net"], org_domains="example.net")
    b.add_generated(2)
    b.add_generated(2)
    assert b.recipients_input.value.splitlines() == [
        "bob@example.net",
        "user00001@example.net",
        "user00002@example.net",
        "user00003@example.net",
        "user00004@example.net",
    ]
    assert len(b.event.envelope.recipients) == 5 and not b.event.truncated
    assert hidden(b.truncated_flag)


def test_inbound_leaves_out_recipients_outside_the_org_domains():
    b = builder(recipients="bob@example.com\nStranger <x@other.net>\ncarol@EXAMPLE.com\n\ny@other.net")
    assert b.event.envelope.recipients == ["bob@example.com", "carol@example.com"]
    assert b.dropped_recipients == ["x@other.net", "y@other.net"]
    assert not hidden(b.dropped_flag)
    assert "2 recipients left out" in b.dropped_flag.value and "x@other.net" in b.dropped_flag.value
    # Subdomains are not included, as in the kit's in_domains.
    b.set(recipients=["a@eu.example.com", "bob@example.com"])
    assert b.dropped_recipients == ["a@eu.example.com"]
    # Outbound keeps every recipient.
    b.direction_buttons.value = "OUTBOUND"
    assert b.event.envelope.recipients == ["a@eu.example.com", "bob@example.com"]
    assert b.dropped_recipients == [] and hidden(b.dropped_flag)


def test_inbound_with_no_org_recipient_makes_no_event():
    b = builder(recipients=["x@other.net"])
    with pytest.raises(EventError, match="no recipient is in the organization's domains"):
        b.event  # noqa: B018  # the property access is what raises
    assert not hidden(b.error_flag) and "WorkMail invokes no inbound rule" in b.error_flag.value
    assert b.dropped_recipients == ["x@other.net"]
    b.set(org_domains="")
    assert "none were given" in str(b.error)
    b.set(org_domains=["example.com", "other.net"])
    assert b.error is None and b.event.envelope.recipients == ["x@other.net"]
    assert hidden(b.error_flag)


def test_bad_input_shows_the_kits_error_and_no_stale_event():
    b = EventBuilder(**FIXED)  # no From yet
    assert isinstance(b.error, EventError)
    assert b.error.field == "envelope.mailFrom.address"
    assert not hidden(b.error_flag) and "no event" in b.error_flag.value
    assert "no event" in b.preview.value
    b.set(mail_from="alice@example.org", recipients="bob@example.com\nnot an address")
    with pytest.raises(EventError, match="line 2 of Recipients"):
        b.event  # noqa: B018  # the property access is what raises
    b.recipients_input.value = "bob@example.com"
    assert b.event.envelope.recipients == ["bob@example.com"]
    b.from_input.value = "nobody"
    assert b.error is not None and b.error.field == "envelope.mailFrom.address"


def test_set_changes_several_fields_at_once_and_checks_names():
    b = builder()
    assert b.set(direction="OUTBOUND", mail_from="ceo@example.com", on_behalf_of="pa@example.com", subject="Q") is b
    assert b.event.flow_direction == "OUTBOUND" and b.event.sender == "pa@example.com"
    assert b.direction_buttons.value == "OUTBOUND" and b.sender_input.value == "pa@example.com"
    b.set(on_behalf_of=None)
    assert b.event.sender is None and "sender" not in b.event.raw
    b.set(message_id="m-2", invocation_id="inv-2")
    assert (b.event.message_id, b.event.invocation_id) == ("m-2", "inv-2")
    with pytest.raises(TypeError, match="unknown field.*subjet.*valid: direction"):
        b.set(subjet="typo")
    with pytest.raises(EventError, match="INBOUND or OUTBOUND"):
        b.set(direction="sideways")


def test_builder_controls_have_stable_classes_and_descriptions():
    b = builder()
    assert "wms-event-builder" in b._dom_classes
    assert "wms-event-preview" in b.preview._dom_classes
    assert "wms-flag-subject-cut" in b.subject_cut_flag._dom_classes
    assert "wms-flag-truncated" in b.truncated_flag._dom_classes
    assert b.subject_input.description == "Subject" and "wms-subject" in b.subject_input._dom_classes
    assert b.recipients_input.description == "Recipients" and "wms-recipients" in b.recipients_input._dom_classes
    assert b.from_input.description == "From" and b.direction_buttons.description == "Direction"


def test_builder_mimebundle_has_widget_view_and_static_fallbacks():
    b = builder(subject="y" * 260)
    bundle = b._repr_mimebundle_()
    assert {"text/plain", "text/html", WIDGET_VIEW} <= set(bundle)
    assert bundle[WIDGET_VIEW]["model_id"] == b.model_id
    assert bundle["text/plain"] == b.static_text()
    assert "subject cut: 260 → 256 characters" in bundle["text/plain"]
    assert "wms-flag-subject-cut" in bundle["text/html"] and "<style>" in bundle["text/html"]
    assert '"truncated": false' in bundle["text/html"]


def test_builder_static_text_is_deterministic_with_fixed_ids():
    kwargs = {"recipients": ["bob@example.com", "x@other.net"], "subject": "z" * 300}
    first, second = builder(**kwargs), builder(**kwargs)
    assert first.static_text() == second.static_text()
    assert first.static_html() == second.static_html()
    assert first.model_id not in first.static_text() + first.static_html()
    text = first.static_text()
    assert FIXED["message_id"] in text and "1 recipient left out" in text
    # The JSON part of the static text is the event itself.
    assert json.loads(text[text.index("{") :]) == dict(first.event.raw)


# --------------------------------------------------------------- EventInspector


def test_events_table_on_the_valid_samples():
    files = sorted(EVENTS.glob("valid-*.json"))
    table = events_table(files)
    assert list(table.columns) == list(EVENT_COLUMNS)
    assert len(table) == len(files) and table.index.name == "event"
    row = table.loc["valid-truncated"]
    assert bool(row["truncated"]) and row["size_bytes"] <= PAYLOAD_LIMIT_BYTES and row["recipients"] > 1000
    assert table.loc["valid-on-behalf", "sender"] == "assistant@example.com"
    legacy = table.loc["valid-legacy-pre-2020"]
    assert pd.isna(legacy["messageId"]) and pd.isna(legacy["direction"])
    assert table.loc["valid-long-subject-cut", "subject"].endswith("…")
    assert all(len(s) <= 40 for s in table["subject"])


def test_events_table_accepts_one_event_a_list_and_a_dict():
    one = build_event(mail_from="a@example.org", recipients=["b@example.com"], subject="s", **FIXED)
    assert len(events_table(one)) == 1
    assert events_table(one).loc["0", "messageId"] == FIXED["message_id"]
    raw = json.loads((EVENTS / "valid-on-behalf.json").read_text())
    table = events_table({"built": one, "raw": raw})
    assert list(table.index) == ["built", "raw"] and list(table["recipients"]) == [1, 1]
    assert isinstance(events_table([]), pd.DataFrame) and events_table([]).empty
    with pytest.raises(TypeError, match="events must be"):
        events_table(42)


def test_events_table_reads_invalid_events_without_failing():
    table = events_table(sorted(EVENTS.glob("invalid-*.json")))
    assert len(table) == len(list(EVENTS.glob("invalid-*.json")))


def test_inspector_table_dropdown_and_static_view():
    files = sorted(EVENTS.glob("valid-*.json"))
    inspector = EventInspector(files)
    assert list(inspector.table.columns) == list(EVENT_COLUMNS) and len(inspector.table) == len(files)
    assert len(inspector.select.options) == len(files)
    assert "<table" in inspector.table_view.value
    first = inspector.json_view.value
    truncated_index = [i for i, f in enumerate(files) if f.stem == "valid-truncated"][0]
    inspector.select.value = truncated_index
    assert inspector.json_view.value != first
    assert "more …" in inspector.json_view.value and len(inspector.json_view.value) < 10_000
    bundle = inspector._repr_mimebundle_()
    assert {"text/plain", "text/html", WIDGET_VIEW} <= set(bundle)
    assert "event valid-truncated:" in bundle["text/plain"]
    assert EventInspector(files).static_text() == EventInspector(files).static_text()


def test_inspector_with_one_event_and_with_none():
    one = build_event(mail_from="a@example.org", recipients=["b@example.com"], subject="s", **FIXED)
    inspector = EventInspector(one)
    assert len(inspector.table) == 1 and inspector.selected == one.raw
    empty = EventInspector([])
    assert empty.selected is None and empty.static_text() == "EventInspector: 0 events"


# ---------------------------------------------------------------- MessageViewer


def test_viewer_on_multipart_with_attachments():
    viewer = MessageViewer(email("14"))
    assert viewer.tabs.titles == TAB_TITLES
    assert len(viewer.tabs.children) == len(TAB_TITLES)
    panes = viewer.panes
    assert "Subject" in panes["Headers"].value and "Quote Q-2025-1142" in panes["Headers"].value
    for name in ("Q-2025-1142.pdf", "price-list-2025-11.csv", "application/pdf", "text/csv"):
        assert name in panes["Attachments"].value
    assert panes["Parts"].value.count("<tr>") == 1 + len(viewer.message.parts)
    assert "Hello Mei," in panes["Text body"].value
    assert "<iframe" in panes["HTML preview"].value
    text = viewer.static_text()
    assert "From: dave@sales.example.com" in text and "To: mei.tanaka@example.org" in text
    assert "Attachments: Q-2025-1142.pdf (application/pdf" in text and "Defects: none" in text
    assert "no defects found" in panes["Defects"].value


def test_viewer_html_preview_is_sandboxed():
    viewer = MessageViewer(email("15"))
    value = viewer.panes["HTML preview"].value
    iframe = re.search(r"<iframe[^>]*>", value).group(0)
    assert re.search(r'\bsandbox=""', iframe) and "srcdoc=" in iframe
    assert "allow-scripts" not in iframe and "allow-same-origin" not in iframe
    # The mail's markup is only inside the escaped srcdoc attribute.
    assert "<h2>" not in value and "&lt;h2&gt;Your November statement is ready" in value
    assert "No text/plain body." in viewer.panes["Text body"].value
    assert "No attachments." in viewer.panes["Attachments"].value


def test_viewer_never_injects_script_into_the_page():
    raw = (
        b"From: a@example.org\r\nTo: b@example.com\r\nSubject: x\r\nDate: Mon, 10 Nov 2025 09:00:00 +0000\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: text/html; charset="utf-8"\r\n\r\n'
        b'<p onclick="alert(1)">hi</p><script>alert("pwned")</script>"\' &amp; <img src="https://t.example/p.gif">\r\n'
    )
    viewer = MessageViewer(raw)
    page = viewer._repr_mimebundle_()["text/html"] + "".join(p.value for p in viewer.tabs.children)
    assert "<script" not in page.lower() and "<img" not in page
    srcdoc = re.search(r'srcdoc="([^"]*)"', viewer.panes["HTML preview"].value).group(1)
    assert "&lt;script&gt;" in srcdoc and "Content-Security-Policy" in srcdoc
    assert sandboxed_iframe('"><script>x</script>').count("<script") == 0


def test_viewer_shows_defects():
    viewer = MessageViewer(email("27"))
    assert viewer.message.defects
    pane = viewer.panes["Defects"].value
    assert "closing boundary" in pane and "defect(s)" in pane
    text = viewer.static_text()
    assert f"Defects: {len(viewer.message.defects)}" in text and "closing boundary" in text


def test_viewer_accepts_parsed_messages_bytes_and_paths():
    from workmail_sandbox import parse_message, read_eml

    path = email("14")
    views = [
        MessageViewer(path),
        MessageViewer(str(path)),
        MessageViewer(path.read_bytes()),
        MessageViewer(read_eml(path)),
        MessageViewer(parse_message(path.read_bytes(), headers_only=True)),  # re-read in full
    ]
    assert len({v.static_text() for v in views}) == 1
    with pytest.raises(MessageParseError, match="no such file"):
        MessageViewer("missing.eml")


def test_viewer_mimebundle_is_deterministic():
    first, second = MessageViewer(email("14")), MessageViewer(email("14"))
    bundle = first._repr_mimebundle_()
    assert {"text/plain", "text/html", WIDGET_VIEW} <= set(bundle)
    assert bundle["text/plain"] == second._repr_mimebundle_()["text/plain"]
    assert bundle["text/html"] == second._repr_mimebundle_()["text/html"]


# -------------------------------------------------------------------- show_json


def test_show_json_colours_html_and_keeps_plain_text():
    view = show_json({"Version": "2012-10-17", "n": 3, "ok": True, "none": None, "s": "<b>"})
    assert isinstance(view, JsonView)
    bundle = view._repr_mimebundle_()
    assert json.loads(bundle["text/plain"]) == {"Version": "2012-10-17", "n": 3, "ok": True, "none": None, "s": "<b>"}
    html = bundle["text/html"]
    assert '<span class="wms-json-key">&quot;Version&quot;</span>' in html
    assert '<span class="wms-json-num">3</span>' in html and '<span class="wms-json-lit">true</span>' in html
    assert "<b>" not in html and "&lt;b&gt;" in html


def test_show_json_reads_json_text_events_and_objects():
    policy = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}'
    assert json.loads(show_json(policy).text) == json.loads(policy)
    event = build_event(mail_from="a@example.org", recipients=["b@example.com"], **FIXED)
    assert json.loads(show_json(event).text) == dict(event.raw)
    assert show_json("not json").text == '"not json"'


def test_show_json_shortens_long_lists():
    view = show_json({"items": list(range(100))}, max_items=20)
    assert "… 85 more …" in view.text and "wms-json-more" in view._repr_html_()
    assert "… " not in show_json({"items": list(range(100))}, max_items=None).text


# ------------------------------------------------- short outputs and fitting layout (#15)


def test_events_table_displays_to_fit_the_page():
    """The table's HTML takes its output area's width, one share per column; missing values are —."""
    from workmail_sandbox.widgets import EventsTable
    from workmail_sandbox.widgets.event_inspector import _COLUMN_WIDTHS

    table = events_table(sorted(EVENTS.glob("valid-*.json")))
    assert isinstance(table, EventsTable)
    assert isinstance(table.sort_values("size_bytes").head(3), EventsTable)  # pandas operations keep the display
    page = table._repr_html_()
    assert 'class="wms-table wms-fit wms-events"' in page
    assert "table-layout:fixed" in page and "text-overflow:ellipsis" in page
    widths = [int(w) for w in re.findall(r'<col style="width:(\d+)%">', page)]
    assert len(widths) == len(EVENT_COLUMNS) + 1 and sum(widths) == 100
    assert sum(_COLUMN_WIDTHS.values()) == 100
    assert '<th title="size_bytes">size_<wbr>bytes</th>' in page  # names wrap, never cut
    assert '<th title="messageId">message<wbr>Id</th>' in page
    assert "NaN" not in page and "<NA>" not in page and "<td title=\"—\">—</td>" in page
    size = table.loc["valid-truncated", "size_bytes"]
    assert f'<td class="wms-num" title="{size:,}">{size:,}</td>' in page
    text = repr(table)
    assert "NaN" not in text and "—" in text
    assert f"{len(table)} events" in page


def test_events_table_text_view_is_short():
    many = {f"e{i}": build_event(mail_from="a@example.org", recipients=["b@example.com"], subject="s") for i in range(50)}
    text = repr(events_table(many))
    assert len(text.splitlines()) < 30  # 20 rows and pandas' "..." line, not 50 rows


def test_events_table_long_values_keep_their_whole_text_as_the_tooltip():
    event = build_event(mail_from="a-very-long-local-part-for-the-test@example.org", recipients=["b@example.com"],
                        subject="Quarterly report " * 10)
    page = events_table(event)._repr_html_()
    assert 'title="a-very-long-local-part-for-the-test@example.org"' in page
    assert "Quarterly report Quarterly report Quart…" in page  # the frame's own 40-character cut


def test_builder_subject_box_is_one_line_and_the_button_is_not_shrunk():
    b = builder()
    assert b.subject_input.rows == 1
    layout = b.generate_button.layout
    assert (layout.width, layout.min_width, layout.flex) == ("auto", "max-content", "0 0 auto")


def test_show_template_outlines_the_template_and_keeps_the_whole_text():
    from workmail_sandbox.apps import get_app
    from workmail_sandbox.widgets import LongText, show_template

    text = get_app("hello_world").template_text
    shown = show_template(text)
    assert isinstance(shown, LongText) and shown.full == text
    summary = repr(shown)
    assert len(summary.splitlines()) <= 15 and len(summary) < len(text) / 4
    assert "Transform 'AWS::Serverless-2016-10-31'" in summary
    assert "UpdateMessage (default 'false')" in summary
    assert re.search(r"WorkMailHelloWorldFunction\s+AWS::Serverless::Function", summary)
    assert "Outputs: HelloWorldArn" in summary
    page = shown._repr_html_()
    assert "<details" in page and "<summary>The whole template" in page
    assert "AWSTemplateFormatVersion" in page  # the whole text, inside the collapsed block
    assert repr(show_template(text, full=True)) == text.rstrip("\n")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (42, "show_template takes text, got int"),
        ("a: [", "could not read the template as YAML or JSON"),
        ("a: &x [1]\nb: *x\nResources: {}", "refuses YAML aliases (line 2)"),
        ("a: 1", "no Resources section"),
        ("Resources: {}\n" + "#" * 1_000_001, "it shows at most 1,000,000"),
    ],
)
def test_show_template_refuses_bad_input_in_one_line(bad, message):
    from workmail_sandbox.errors import ConfigurationError
    from workmail_sandbox.widgets import show_template

    with pytest.raises(ConfigurationError, match=re.escape(message)) as caught:
        show_template(bad)
    assert "\n" not in str(caught.value) and "Fix: " in str(caught.value)


ACCESS_DENIED = (
    "An error occurred (AccessDeniedException) when calling the PutRawMessageContent operation: User: "
    "arn:aws:sts::123456789012:assumed-role/wm-get-and-put-role/wm-get-and-put is not authorized to perform: "
    "workmailmessageflow:PutRawMessageContent on resource: arn:aws:workmailmessageflow:us-east-1:123456789012:"
    "message/m-71becb9ba5c44550887e5c97b0c54d5c/incoming/685cec90-4740-4e46-b791-b93c8d1aca7a because no "
    "identity-based policy allows the workmailmessageflow:PutRawMessageContent action. (Sandbox: no statement "
    "allows it: statement '#0' in policy 'AWSLambdaBasicExecutionRole' covers [logs:CreateLogGroup], not "
    "workmailmessageflow:PutRawMessageContent. Fix: attach AmazonWorkMailMessageFlowFullAccess to role "
    "wm-get-and-put-role, or allow workmailmessageflow:PutRawMessageContent on "
    "arn:aws:workmailmessageflow:us-east-1:123456789012:message/* in its policy.)"
)


def test_show_error_says_an_access_denied_message_in_two_lines():
    """IAM's access-denied wording (IAM User Guide, Troubleshoot access denied error messages;
    docs/aws-behaviour.md §3.2): principal "is not authorized to perform" action "on resource" ARN,
    "because no <type> policy allows the <action> action" for an implicit deny."""
    from workmail_sandbox.widgets import show_error

    shown = show_error({"errorType": "ClientError", "errorMessage": ACCESS_DENIED})
    first, fix = repr(shown).splitlines()
    assert first == (
        "AccessDeniedException calling PutRawMessageContent: role wm-get-and-put-role may not call "
        "workmailmessageflow:PutRawMessageContent on message/m-71becb…/incoming/685cec90… "
        "(no identity-based policy allows it)"
    )
    assert fix.startswith("Fix: attach AmazonWorkMailMessageFlowFullAccess to role wm-get-and-put-role")
    assert len(repr(shown)) < len(ACCESS_DENIED) / 2
    assert shown.full == ACCESS_DENIED and ACCESS_DENIED.split(" (Sandbox")[0] in shown._repr_html_()
    assert repr(show_error(ACCESS_DENIED)) == repr(shown)
    assert repr(show_error(ACCESS_DENIED, full=True)) == ACCESS_DENIED


def test_show_error_keeps_the_first_line_of_other_errors():
    from workmail_sandbox.widgets import show_error

    assert repr(show_error(ValueError("bad value\nmore detail"))) == "ValueError: bad value"
    assert len(repr(show_error("x" * 5000))) == 200
    with pytest.raises(Exception, match="without an errorMessage"):
        show_error({"errorType": "Oops"})


def test_show_error_reads_an_explicit_deny():
    """Same source: an explicit deny reads "with an explicit deny in a <type> policy"."""
    from workmail_sandbox.widgets import show_error

    message = (
        "User: arn:aws:iam::123456789012:user/dev/jane is not authorized to perform: s3:GetObject on resource: "
        "arn:aws:s3:::bucket/key with an explicit deny in an identity-based policy"
    )
    assert repr(show_error(message)) == (
        "AccessDenied: user jane may not call s3:GetObject on bucket/key "
        "(with an explicit deny in an identity-based policy)"
    )


def test_show_text_cuts_long_texts():
    from workmail_sandbox.widgets import show_text

    shown = show_text("\n".join(f"line {i}" for i in range(100)), lines=5)
    assert repr(shown).splitlines()[-1] == "… 95 more lines (.full has them all)"
    assert len(repr(shown).splitlines()) == 6 and shown.full.count("\n") == 99
    assert repr(show_text("short")) == "short"


def test_aws_only_explains_once_per_notebook(capsys, monkeypatch):
    """The "Skipped" notice is printed by the first On real AWS cell after setup(), not by each one."""
    from workmail_sandbox import lessons

    monkeypatch.setattr(lessons, "_skip_notice_shown", False)  # as setup() leaves it
    assert [lessons.aws_only() for _ in range(4)] == [False] * 4
    assert capsys.readouterr().out.count("Skipped:") == 1
