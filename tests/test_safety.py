"""What the sandbox keeps in: the network guard, the environment, one sandbox per process,
snapshots' temporary files, aws mode's credential check. docs/safety.md lists each path out
and the test here that covers it.
"""

from __future__ import annotations

import _socket
import gc
import os
import socket
import tempfile

import boto3
import pytest
import requests
from loopback import LoopbackListener

from workmail_sandbox import _moto
from workmail_sandbox import sandbox as sbx
from workmail_sandbox.aws import AwsAccount, is_test_credential
from workmail_sandbox.emulators import _core
from workmail_sandbox.errors import ConfigurationError, SandboxError
from workmail_sandbox.network import NetworkBlockedError, NetworkGuard, can_isolate_network, without_network

OUTSIDE = "192.0.2.10"  # TEST-NET-1: never routed, so a test that leaks cannot reach anything


@pytest.fixture
def fresh():
    sbx.stop()
    yield
    sbx.stop()


@pytest.fixture
def guard():
    g = NetworkGuard()
    g.install()
    try:
        yield g
    finally:
        g.uninstall()


@pytest.fixture
def listener():
    server = LoopbackListener()
    yield server
    server.close()


# ------------------------------------------------------------------ network guard


def test_reverse_name_lookups_are_refused(guard):
    with pytest.raises(NetworkBlockedError, match="reverse name lookup"):
        socket.getnameinfo((OUTSIDE, 80), 0)
    with pytest.raises(NetworkBlockedError, match="reverse name lookup"):
        socket.gethostbyaddr(OUTSIDE)
    with pytest.raises(NetworkBlockedError):
        _socket.gethostbyaddr(OUTSIDE)
    assert socket.getnameinfo(("127.0.0.1", 80), socket.NI_NUMERICHOST)[0] == "127.0.0.1"
    assert {a.kind for a in guard.attempts} == {"reverse name lookup"}


def test_the_c_modules_name_lookups_are_refused(guard):
    with pytest.raises(NetworkBlockedError):
        _socket.getaddrinfo("example.com", 443)
    with pytest.raises(NetworkBlockedError):
        _socket.gethostbyname("example.com")
    with pytest.raises(NetworkBlockedError):
        _socket.gethostbyname_ex("example.com")
    assert _socket.getaddrinfo("localhost", 80)


def test_the_c_socket_type_is_guarded(guard):
    raw = _socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(NetworkBlockedError):
            raw.connect((OUTSIDE, 443))
        with pytest.raises(NetworkBlockedError):
            raw.connect_ex((OUTSIDE, 443))
    finally:
        raw.close()
    wrapped = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(NetworkBlockedError):
            _socket.socket.connect(wrapped, (OUTSIDE, 443))  # the unbound method, named through _socket
    finally:
        wrapped.close()
    assert isinstance(socket.socket(), _socket.socket), "isinstance checks against _socket.socket still hold"


def test_udp_to_another_machine_is_refused_and_loopback_udp_works(guard):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    raw = _socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with pytest.raises(NetworkBlockedError, match="datagram"):
            udp.sendto(b"x", (OUTSIDE, 53))
        with pytest.raises(NetworkBlockedError, match="datagram"):
            udp.sendto(b"x", 0, (OUTSIDE, 53))
        with pytest.raises(NetworkBlockedError, match="datagram"):
            udp.sendmsg([b"x"], [], 0, (OUTSIDE, 53))
        with pytest.raises(NetworkBlockedError, match="datagram"):
            raw.sendmsg([b"x"], [], 0, (OUTSIDE, 53))
        with pytest.raises(NetworkBlockedError, match="datagram"):
            raw.sendto(b"x", (OUTSIDE, 53))
        udp.bind(("127.0.0.1", 0))
        udp.sendmsg([b"via ", b"sendmsg"], [], 0, udp.getsockname())
        udp.sendto(b"via sendto", udp.getsockname())
        assert {udp.recv(64), udp.recv(64)} == {b"via sendmsg", b"via sendto"}
    finally:
        udp.close()
        raw.close()


def test_uninstall_puts_every_original_back():
    before = (
        _socket.socket,
        _socket.SocketType,
        socket.getnameinfo,
        socket.gethostbyaddr,
        _socket.getaddrinfo,
        dict(socket.socket.__dict__),
    )
    g = NetworkGuard()
    g.install()
    assert _socket.socket is not before[0] and socket.getnameinfo is not before[2]
    g.uninstall()
    after = (
        _socket.socket,
        _socket.SocketType,
        socket.getnameinfo,
        socket.gethostbyaddr,
        _socket.getaddrinfo,
        dict(socket.socket.__dict__),
    )
    assert after == before


def test_a_loopback_proxy_from_the_environment_is_not_used(fresh, monkeypatch, listener):
    """A proxy on loopback got ``CONNECT example.com:443``: the sandbox clears proxy variables."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{listener.port}")
    monkeypatch.setenv("NO_PROXY", "nothing.example")
    sb = sbx.start()
    assert not {"HTTP_PROXY", "https_proxy", "ALL_PROXY", "NO_PROXY"} & set(os.environ)
    with pytest.raises(requests.exceptions.ConnectionError, match="sandbox refused"):
        requests.get("https://example.com/", timeout=2)
    assert listener.connections == 0
    assert any(a.target.startswith("example.com") for a in sb.network.attempts)
    sbx.stop()
    assert os.environ["HTTPS_PROXY"] == f"http://127.0.0.1:{listener.port}"
    assert os.environ["NO_PROXY"] == "nothing.example"


# ------------------------------------------------------------------- environment


def test_endpoint_and_profile_variables_are_cleared_and_restored(fresh, monkeypatch, listener):
    user = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{listener.port}",
        "AWS_ENDPOINT_URL_LAMBDA": f"http://127.0.0.1:{listener.port}",
        "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{listener.port}",
        "AWS_USE_FIPS_ENDPOINT": "true",
        "AWS_USE_DUALSTACK_ENDPOINT": "true",
        "AWS_PROFILE": "work",
        "AWS_DEFAULT_PROFILE": "work",
        "AWS_CONFIG_FILE": "/somewhere/config",
        "AWS_SHARED_CREDENTIALS_FILE": "/somewhere/credentials",
        "AWS_WEB_IDENTITY_TOKEN_FILE": "/somewhere/token",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://127.0.0.1:{listener.port}/creds",
    }
    for name, value in user.items():
        monkeypatch.setenv(name, value)
    before = dict(os.environ)
    sb = sbx.start()
    leaked = {k: os.environ[k] for k in user if k in os.environ and os.environ[k] == user[k]}
    assert leaked == {}
    assert os.environ["AWS_CONFIG_FILE"] == os.environ["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
    # the sandbox's own clients and the learner's reach moto, not the endpoint in the environment
    assert sb.client("lambda").list_functions()["Functions"] == []
    assert sb.client("s3").list_buckets()["Buckets"] == []
    assert listener.connections == 0
    sbx.stop()
    assert dict(os.environ) == before


def test_an_endpoint_variable_set_inside_the_sandbox_is_ignored(fresh, listener):
    sb = sbx.start()
    os.environ["AWS_ENDPOINT_URL_S3"] = f"http://127.0.0.1:{listener.port}"
    try:
        assert sb.client("s3").list_buckets()["Buckets"] == []
        assert boto3.client("s3").list_buckets()["Buckets"] == []
    finally:
        del os.environ["AWS_ENDPOINT_URL_S3"]
    assert listener.connections == 0


def test_an_endpoint_variable_set_inside_the_sandbox_does_not_outlive_it(fresh, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL_LAMBDA", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:1")  # the user's own: restored on stop
    sbx.start()
    assert "AWS_ENDPOINT_URL_SQS" not in os.environ
    os.environ["AWS_ENDPOINT_URL_LAMBDA"] = "http://127.0.0.1:2"  # set by code running in the sandbox
    sbx.stop()
    assert "AWS_ENDPOINT_URL_LAMBDA" not in os.environ
    assert os.environ["AWS_ENDPOINT_URL_SQS"] == "http://127.0.0.1:1"


def test_aws_files_in_home_are_not_read_by_boto3(fresh, monkeypatch, tmp_path):
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = AKIAHOMEDIRECTORYKEY\naws_secret_access_key = home-secret\n"
    )
    (tmp_path / ".aws" / "config").write_text("[default]\nendpoint_url = http://127.0.0.1:9\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("AWS_SHARED_CREDENTIALS_FILE", raising=False)
    monkeypatch.delenv("AWS_CONFIG_FILE", raising=False)
    sb = sbx.start()
    credentials = boto3.session.Session().get_credentials().get_frozen_credentials()
    assert credentials.access_key != "AKIAHOMEDIRECTORYKEY" and is_test_credential(credentials.access_key)
    assert sb.client("s3").list_buckets()["Buckets"] == []


# --------------------------------------------------------------- one per process


def test_a_second_sandbox_is_refused_and_the_first_keeps_working(fresh):
    first = sbx.start()
    org = first.client("workmail").create_organization(Alias="first-org")["OrganizationId"]
    second = sbx.Sandbox()
    with pytest.raises(SandboxError, match="already running"):
        second.start()
    assert not second.started
    second.stop()
    with pytest.raises(SandboxError, match="already running"), sbx.Sandbox(region="eu-west-1"):
        pass  # pragma: no cover - never reached
    assert first.started and sbx.current() is first and sbx.start() is first
    orgs = first.client("workmail").list_organizations()["OrganizationSummaries"]
    assert [o["OrganizationId"] for o in orgs] == [org]


def test_a_sandbox_started_directly_is_the_running_one(fresh):
    sb = sbx.Sandbox().start()
    assert sbx.current() is sb
    assert sbx.start() is sb
    with pytest.raises(SandboxError, match="already running"):
        sbx.start(region="eu-west-1")
    sbx.stop()
    assert not sb.started and sbx.current() is None
    again = sbx.Sandbox().start()  # once stopped, a new one may start
    assert sbx.current() is again
    again.stop()


# ---------------------------------------------------------- snapshots' temp files


_NOT_OURS: set[str] = set()  # pytest's own capture files, open before the test


def _temp_files() -> tuple[int, int]:
    """(count, bytes) of this process's open descriptors on deleted temporary files."""
    count = size = 0
    tmp = os.path.realpath(tempfile.gettempdir())
    for fd in os.listdir("/proc/self/fd"):
        if fd in _NOT_OURS:
            continue
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith(tmp) and target.endswith("(deleted)"):
                count += 1
                size += os.fstat(int(fd)).st_size
        except OSError:
            continue
    return count, size


def test_snapshots_hold_no_open_files_once_released_or_dropped(fresh, monkeypatch):
    monkeypatch.setenv("MOTO_S3_DEFAULT_KEY_BUFFER_SIZE", "1024")  # every object on disk, as big ones are
    body = b"x" * 64 * 1024
    _NOT_OURS.clear()
    _NOT_OURS.update(os.listdir("/proc/self/fd"))
    kept_elsewhere = _moto.kept_s3_model_count()  # other tests' helpers may have kept some
    sb = sbx.start()
    s3 = sb.client("s3")
    s3.create_bucket(Bucket="big")
    s3.put_object(Bucket="big", Key="k", Body=body)
    fds_before = len(os.listdir("/proc/self/fd"))
    files_before = _temp_files()

    for _ in range(2000):  # dropped at once: each closes its file
        sb.snapshot()
    assert _temp_files() == files_before
    assert len(os.listdir("/proc/self/fd")) <= fds_before + 2

    held = [sb.snapshot() for _ in range(50)]
    count, size = _temp_files()
    assert count >= files_before[0] + 50 and size >= files_before[1] + 50 * len(body)
    held[0].release()
    assert held[0].released and _temp_files()[0] == count - 1
    with pytest.raises(SandboxError, match="released"):
        sb.restore(held[0])
    sb.reset()  # a held snapshot survives reset(), so it can be restored
    sb.restore(held[1])
    assert s3.get_object(Bucket="big", Key="k")["Body"].read() == body
    del held
    gc.collect()
    sb.reset()
    assert _temp_files()[0] <= files_before[0]

    s3.create_bucket(Bucket="big")
    s3.put_object(Bucket="big", Key="k", Body=body)
    kept = [sb.snapshot() for _ in range(20)]
    assert _temp_files()[0] >= 20
    sbx.stop()  # held snapshots survive stop (a workshop restores them in a sandbox started again)
    assert not any(snap.released for snap in kept)
    del kept
    gc.collect()  # dropped: their files close
    assert _temp_files() == (0, 0)
    assert len(os.listdir("/proc/self/fd")) <= fds_before + 2
    assert _moto.kept_s3_model_count() == kept_elsewhere


# ------------------------------------------------------------------------ aws mode


@pytest.mark.parametrize(
    ("key", "secret", "token"),
    [
        ("akiaworkmailsandbox0", "real-looking-secret", None),
        ("AkIaWorkMailSandbox0", "real-looking-secret", None),
        ("foobarkey", "real-looking-secret", None),
        ("AKIAREALLOOKINGKEY01", "foobarsecret", None),
        ("akiaiosfodnn7example", "real-looking-secret", None),
        ("Testing", "real-looking-secret", None),
        ("AKIAREALLOOKINGKEY01", "WJALRXUTNFEMI/K7MDENG/BPXRFICYEXAMPLEKEY", None),
        ("AKIAREALLOOKINGKEY01", "real-looking-secret", "TESTING"),
        ("AKIAREALLOOKINGKEY01", "real-looking-secret", "workmail-sandbox-fake-session-token"),
    ],
)
def test_aws_mode_refuses_test_credentials_in_any_case(monkeypatch, key, secret, token):
    monkeypatch.setattr(_core.STATE, "ever_started", False)
    session = boto3.session.Session(
        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token, region_name="us-east-1"
    )
    with pytest.raises(ConfigurationError, match="fake"):
        AwsAccount(session=session)


def test_real_looking_credentials_are_not_test_credentials():
    assert not is_test_credential("AKIAREALLOOKINGKEY01")
    assert not is_test_credential("x")
    assert not is_test_credential(None)
    assert is_test_credential(" akiaworkmailsandbox0 ")


# ------------------------------------------------------- whole-process isolation

_ESCAPE = (
    "import socket\n"
    "try:\n"
    "    socket.create_connection(('192.0.2.10', 443), timeout=2)\n"
    "except OSError as error:\n"
    "    print('refused', error.errno)\n"
    "else:\n"
    "    print('connected')\n"
)


@pytest.mark.skipif(not can_isolate_network(), reason="no unprivileged user namespaces here (unshare -rn)")
def test_a_subprocess_run_without_network_cannot_connect_anywhere():
    import errno
    import subprocess
    import sys

    done = subprocess.run(without_network([sys.executable, "-c", _ESCAPE]), capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["refused", str(errno.ENETUNREACH)]
    shown = subprocess.run(without_network(["cat", "/proc/net/dev"]), capture_output=True, text=True, timeout=30)
    interfaces = {line.split(":")[0].strip() for line in shown.stdout.splitlines()[2:]}
    assert interfaces == {"lo"}


def test_without_network_refuses_clearly_where_it_cannot_isolate(monkeypatch):
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert not can_isolate_network()
    with pytest.raises(SandboxError, match="unshare"):
        without_network(["true"])
