"""Function code cannot break the sandbox: stop() from inside a function, the network guard,
and threads a function leaves running when the sandbox stops."""

from __future__ import annotations

import io
import os
import socket
import time
import zipfile

import boto3
import pytest

from workmail_sandbox import sandbox as sbx
from workmail_sandbox.invocation import function_threads
from workmail_sandbox.network import NetworkBlockedError

TRUST = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'


@pytest.fixture
def sb():
    sbx.stop()
    sandbox = sbx.start()
    yield sandbox
    sbx.stop()
    sbx.stop()


def deploy(sb, name: str, code: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", code)
    iam = sb.client("iam")
    try:
        role = iam.get_role(RoleName="containment")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="containment", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    sb.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()}, Timeout=5,
    )


def test_function_code_cannot_stop_the_sandbox(sb):
    deploy(
        sb,
        "stopper",
        "import workmail_sandbox as wms\n"
        "from workmail_sandbox import sandbox\n"
        "def handler(e, c):\n"
        "    seen = []\n"
        "    for stop in (sandbox.stop, sandbox.current().stop):\n"
        "        try:\n"
        "            stop()\n"
        "        except wms.SandboxError as error:\n"
        "            seen.append(str(error))\n"
        "    return seen\n",
    )
    result = sb.runtime.invoke("stopper", {})
    assert len(result.payload) == 2
    assert all("Function stopper called stop(): function code cannot stop the sandbox" in m for m in result.payload)
    assert sb.started and sbx.current() is sb
    assert "Buckets" in sb.client("s3").list_buckets()  # still everything working
    assert sb.runtime.invoke("stopper", {}).payload == result.payload


def test_uncaught_stop_in_a_function_is_its_error(sb):
    deploy(sb, "stopper2", "from workmail_sandbox import sandbox\ndef handler(e, c):\n    sandbox.stop()\n")
    answer = sb.client("lambda").invoke(FunctionName="stopper2")
    assert answer["FunctionError"] == "Unhandled"
    assert b"SandboxError" in answer["Payload"].read()
    assert sb.started


@pytest.mark.parametrize(
    "tamper",
    [
        "sandbox.current().network.uninstall()",
        "import socket, _socket\n    socket.getaddrinfo = _socket.getaddrinfo\n"
        "    socket.socket.connect = _socket.socket.connect",
    ],
)
def test_a_function_that_disables_the_network_guard_gets_it_back(sb, tamper):
    before = socket.getaddrinfo
    deploy(sb, "unguard", f"from workmail_sandbox import sandbox\ndef handler(e, c):\n    {tamper}\n    return 1\n")
    with pytest.warns(RuntimeWarning, match="network guard"):
        result = sb.runtime.invoke("unguard", {})
    assert "network guard" in result.tampered
    assert socket.getaddrinfo is before and sb.network.installed
    with pytest.raises(NetworkBlockedError):
        socket.getaddrinfo("s3.amazonaws.com", 443)
    with pytest.raises(NetworkBlockedError):
        socket.create_connection(("192.0.2.1", 443), timeout=0.1)


def test_the_guard_put_back_is_taken_out_at_stop(sb):
    deploy(sb, "unguard2", "from workmail_sandbox import sandbox\ndef handler(e, c):\n    sandbox.current().network.uninstall()\n")
    with pytest.warns(RuntimeWarning):
        sb.runtime.invoke("unguard2", {})
    sbx.stop()
    assert not sb.network.installed
    assert getattr(socket.getaddrinfo, "__closure__", None) is None  # the plain function again


THREAD_CODE = """
import os, threading, time
def handler(event, context):
    def later():
        deadline = time.monotonic() + 10
        while not os.path.exists(event["go"]) and time.monotonic() < deadline:
            time.sleep(0.01)
        with open(event["out"] + ".part", "w") as fh:
            fh.write(os.environ.get("AWS_ACCESS_KEY_ID", "<none>"))
        os.replace(event["out"] + ".part", event["out"])  # the test sees the file only once it is whole
    threading.Thread(target=later, name="leaker").start()
    return "started"
"""


def test_a_thread_left_running_after_stop_never_sees_the_users_credentials(tmp_path, monkeypatch):
    sbx.stop()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALLOOKINGKEY77")
    sb = sbx.start()
    try:
        deploy(sb, "leaker", THREAD_CODE)
        go, out = tmp_path / "go", tmp_path / "out"
        assert sb.runtime.invoke("leaker", {"go": str(go), "out": str(out)}).payload == "started"
        started = time.perf_counter()
        with pytest.warns(RuntimeWarning, match=r"still running after stop\(\): leaker \(started by leaker\)"):
            sbx.stop()
        assert 0.9 < time.perf_counter() - started < 5  # waited about a second for it
        assert os.environ["AWS_ACCESS_KEY_ID"] == sbx.FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"]
        go.write_text("go")
        deadline = time.monotonic() + 10
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert out.read_text() == sbx.FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"]
        for thread, _ in function_threads():
            thread.join(5)
        sbx.stop()  # the threads have ended: the user's environment comes back
        assert os.environ["AWS_ACCESS_KEY_ID"] == "AKIAREALLOOKINGKEY77"
    finally:
        (tmp_path / "go").write_text("go")
        for thread, _ in function_threads():
            thread.join(5)
        sbx.stop()


def test_threads_that_end_within_a_second_are_waited_for(tmp_path, monkeypatch, recwarn):
    sbx.stop()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALLOOKINGKEY78")
    sb = sbx.start()
    deploy(sb, "brief", "import threading, time\ndef handler(e, c):\n    threading.Thread(target=time.sleep, args=(0.2,)).start()\n")
    sb.runtime.invoke("brief", {})
    sbx.stop()
    assert not [w for w in recwarn if "still running" in str(w.message)]
    assert os.environ["AWS_ACCESS_KEY_ID"] == "AKIAREALLOOKINGKEY78"
    assert boto3.DEFAULT_SESSION is None
