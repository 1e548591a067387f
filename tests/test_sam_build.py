"""``workmail_sandbox.sam.build``: what ``sam build`` does for Python functions and layers.

No network: the wheels pip installs are written by hand into a local folder, and pip
finds them through ``PIP_NO_INDEX`` and ``PIP_FIND_LINKS`` in the environment, which
also shows that the user's pip configuration reaches pip. Each real pip run takes about
half a second, so the function build most tests read is made once per module.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import zipfile
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

import pytest

import workmail_sandbox.sam.build as sam_build
from tests.wheels import write_wheel
from workmail_sandbox.emulators import _core
from workmail_sandbox.errors import SandboxError
from workmail_sandbox.sam import Build, build_function, build_layer, cache_root
from workmail_sandbox.sam.build import MAX_UNZIPPED_BYTES, dependency_key, pip_environment

APP = "import tinydep\n\n\ndef lambda_handler(event, context):\n    return tinydep.VALUE\n"


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheelhouse")
    write_wheel(folder, "tinydep", "1.0", {"tinydep/__init__.py": "VALUE = 42\n"})
    write_wheel(folder, "boto3", "9.9.9", {"boto3/__init__.py": "__version__ = '9.9.9'\n"}, ("botocore==9.9.9",))
    write_wheel(folder, "botocore", "9.9.9", {"botocore/__init__.py": "__version__ = '9.9.9'\n"})
    return folder


def _offline(monkeypatch: pytest.MonkeyPatch, wheelhouse: Path, cache: Path) -> list[Path]:
    """The cache in ``cache``, pip on the wheelhouse only; returns the list of pip runs (their requirements)."""
    monkeypatch.setenv("WORKMAIL_SANDBOX_CACHE", str(cache))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    runs: list[Path] = []
    real = sam_build._run_pip

    def counted(requirements: Path, *args, **kwargs):
        runs.append(requirements)
        return real(requirements, *args, **kwargs)

    monkeypatch.setattr(sam_build, "_run_pip", counted)
    return runs


@pytest.fixture(autouse=True)
def pip_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, wheelhouse: Path) -> list[Path]:
    """Every test: its own cache folder, pip offline, pip runs counted."""
    return _offline(monkeypatch, wheelhouse, tmp_path / "cache")


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _names(built: Build) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(built.zip_bytes)).namelist()


@pytest.fixture(scope="module")
def function(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> SimpleNamespace:
    """One function project built twice into a module-wide cache (pip runs once)."""
    base = tmp_path_factory.mktemp("function")
    code = _write(
        base / "src",
        {
            "app.py": APP,
            "helper.sh": "#!/bin/sh\necho hi\n",
            "requirements.txt": "tinydep==1.0  # the one dependency\n",
            "tests/test_app.py": "def test_nothing():\n    pass\n",
            "__pycache__/app.cpython-312.pyc": "compiled",
            "lib/__pycache__/x.pyc": "compiled",
            ".git/HEAD": "ref: refs/heads/main\n",
            ".aws-sam/build/template.yaml": "{}\n",
            "venv/lib/site.py": "",
            "native.so": "binary",
        },
    )
    (code / "helper.sh").chmod(0o755)
    with pytest.MonkeyPatch.context() as monkeypatch:
        runs = _offline(monkeypatch, wheelhouse, base / "cache")
        first = build_function(code, logical_id="HelloFunction", cache_dir=str(base / "cache"))
        again = build_function(code, logical_id="HelloFunction", cache_dir=str(base / "cache"))
    return SimpleNamespace(code=code, cache=base / "cache", first=first, again=again, runs=runs)


def test_a_function_gets_its_dependencies_at_the_top_of_the_zip_beside_its_code(function):
    names = _names(function.first)
    for expected in ("app.py", "helper.sh", "requirements.txt", "tinydep/__init__.py", "tinydep-1.0.dist-info/METADATA"):
        assert expected in names
    assert function.first.installed == ("tinydep",)
    assert function.first.warnings == ()
    folder = Path(function.first.folder)
    assert folder.is_relative_to(function.cache)
    assert (folder / "tinydep" / "__init__.py").read_text() == "VALUE = 42\n"
    on_disk = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert on_disk == sorted(names)


def test_caches_vcs_folders_and_what_sams_pip_workflow_leaves_out_are_skipped(function):
    names = _names(function.first)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith((".git/", ".aws-sam/", "venv/"))]
    assert "native.so" not in names
    assert "tests/test_app.py" in names  # sam build keeps tests


def test_the_zip_is_deterministic_fixed_times_sorted_names_and_modes(function, tmp_path, pip_runs):
    assert function.again.zip_bytes == function.first.zip_bytes
    assert function.first.sha256 == hashlib.sha256(function.first.zip_bytes).hexdigest()
    infos = zipfile.ZipFile(io.BytesIO(function.first.zip_bytes)).infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in infos}
    assert modes["helper.sh"] == 0o755 and modes["app.py"] == 0o644
    # the same project elsewhere, with other modification times and a fresh cache (pip runs again)
    copy = shutil.copytree(function.code, tmp_path / "elsewhere", copy_function=shutil.copy)
    os.utime(copy / "app.py", (1_000_000_000, 1_000_000_000))
    rebuilt = build_function(copy, logical_id="HelloFunction")
    assert len(pip_runs) == 1
    assert Path(rebuilt.folder).is_relative_to(cache_root())
    assert rebuilt.sha256 == function.first.sha256


def test_the_same_requirements_are_installed_once(function, tmp_path, pip_runs):
    assert len(function.runs) == 1  # two builds of the fixture, one pip run
    changed = shutil.copytree(function.code, tmp_path / "changed")
    (changed / "app.py").write_text(APP + "# changed\n")
    built = build_function(changed, cache_dir=str(function.cache))
    assert pip_runs == []
    assert "tinydep/__init__.py" in _names(built)
    assert built.sha256 != function.first.sha256


def test_builds_running_at_once_share_one_pip_run_and_leave_the_cache_whole(tmp_path, pip_runs):
    projects = [_write(tmp_path / f"p{i}", {"app.py": APP, "requirements.txt": "tinydep\n"}) for i in range(2)]
    with ThreadPoolExecutor(2) as pool:
        builds = list(pool.map(build_function, projects))
    assert len(pip_runs) == 1
    assert builds[0].sha256 == builds[1].sha256
    root = Path(cache_root())
    assert len(list((root / "deps").iterdir())) == 1
    assert list((root / "tmp").iterdir()) == []


def test_a_layer_with_a_python_build_method_goes_into_python(function, tmp_path, pip_runs):
    content = _write(tmp_path / "layer", {"mylib.py": "X = 1\n", "requirements.txt": "tinydep==1.0  # the one dependency\n"})
    layer = build_layer(content, build_method="python3.12", logical_id="DepsLayer", cache_dir=str(function.cache))
    names = _names(layer)
    assert {"python/mylib.py", "python/requirements.txt", "python/tinydep/__init__.py"} <= set(names)
    assert all(name.startswith("python/") for name in names)
    assert layer.installed == ("tinydep",)
    assert pip_runs == []  # the function's requirements, already in that cache


def test_a_layer_without_a_build_method_is_zipped_as_it_is(tmp_path, pip_runs):
    content = _write(
        tmp_path / "layer",
        {"python/shared.py": "X = 1\n", "requirements.txt": "tinydep\n", "python/__pycache__/shared.pyc": "c"},
    )
    layer = build_layer(content, logical_id="SharedLayer")
    assert _names(layer) == ["python/shared.py", "requirements.txt"]
    assert layer.installed == () and pip_runs == []
    (warning,) = layer.warnings
    assert "SharedLayer" in warning and "BuildMethod: python3.12" in warning


def test_boto3_asked_for_is_left_out_with_one_warning(tmp_path):
    code = _write(tmp_path / "src", {"app.py": APP, "requirements.txt": "tinydep==1.0\nboto3==9.9.9\n"})
    built = build_function(code, logical_id="PinnedFunction")
    names = _names(built)
    assert not [n for n in names if n.split("/")[0].startswith(("boto3", "botocore", "s3transfer"))]
    assert "tinydep/__init__.py" in names and built.installed == ("tinydep",)
    (warning,) = built.warnings
    assert "\n" not in warning
    assert "PinnedFunction" in warning and "boto3==9.9.9" in warning
    assert f"kit's boto3 {metadata.version('boto3')}" in warning
    assert "boto3 9.9.9, botocore 9.9.9" in warning  # what was left out, the dependency included


def test_boto3_brought_in_by_a_dependency_is_left_out_and_named(tmp_path, pip_runs):
    # needsboto's wheel sits outside the code folder: pip runs in the code folder, so ../wheels works
    (tmp_path / "wheels").mkdir()
    write_wheel(tmp_path / "wheels", "needsboto", "1.0", {"needsboto/__init__.py": ""}, ("boto3",))
    code = _write(tmp_path / "src", {"app.py": APP, "requirements.txt": "../wheels/needsboto-1.0-py3-none-any.whl\n"})
    built = build_function(code)
    assert built.installed == ("needsboto",)
    assert not [n for n in _names(built) if n.startswith(("boto3", "botocore"))]
    (warning,) = built.warnings
    assert "brings in boto3 for needsboto" in warning
    assert len(pip_runs) == 1


def test_a_pip_failure_names_the_function_the_file_and_pips_reason(tmp_path):
    code = _write(tmp_path / "src", {"app.py": APP, "requirements.txt": "no-such-package-xyz==1.0\n"})
    with pytest.raises(SandboxError) as caught:
        build_function(code, logical_id="BrokenFunction")
    message = str(caught.value)
    assert "\n" not in message
    assert "BrokenFunction" in message and str(code / "requirements.txt") in message
    assert "No matching distribution found for no-such-package-xyz==1.0" in message
    assert "index-url" in caught.value.fix
    assert not (Path(cache_root()) / "deps").exists() or not list((Path(cache_root()) / "deps").iterdir())


def test_pip_is_stopped_at_the_timeout(tmp_path):
    code = _write(tmp_path / "src", {"app.py": APP, "requirements.txt": "tinydep\n"})
    with pytest.raises(SandboxError, match="did not finish .* in 0.01 s") as caught:
        build_function(code, logical_id="SlowFunction", timeout=0.01)
    assert "timeout=" in caught.value.fix
    assert list((Path(cache_root()) / "tmp").iterdir()) == []


def test_pip_runs_with_the_users_environment_as_it_was_before_the_sandbox(tmp_path, monkeypatch):
    seen: list[dict[str, str]] = []

    def fake_pip(requirements: Path, target: Path, label: str, env, timeout: float) -> None:
        seen.append(dict(env))
        _write(target, {"tinydep/__init__.py": ""})

    monkeypatch.setattr(sam_build, "_run_pip", fake_pip)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAWORKMAILSANDBOX0")  # as the running sandbox sets it
    monkeypatch.setenv("PIP_TIMEOUT", "7")
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    code = _write(tmp_path / "src", {"app.py": APP, "requirements.txt": "tinydep\n"})
    saved = {"HTTPS_PROXY": "http://proxy.example:3128", "AWS_ACCESS_KEY_ID": None}
    build_function(code, saved_environ=saved)
    (env,) = seen
    assert env["HTTPS_PROXY"] == "http://proxy.example:3128"
    assert "AWS_ACCESS_KEY_ID" not in env
    assert env["PIP_TIMEOUT"] == "7" and env["PIP_FIND_LINKS"] == os.environ["PIP_FIND_LINKS"]
    assert env["PIP_USER"] == "0"  # --user would clash with --target


def test_without_what_the_sandbox_saved_its_aws_variables_are_dropped(monkeypatch):
    environ = {"AWS_ACCESS_KEY_ID": "AKIAWORKMAILSANDBOX0", "AWS_CONFIG_FILE": os.devnull, "PATH": "/bin"}
    assert pip_environment(environ)["AWS_ACCESS_KEY_ID"] == "AKIAWORKMAILSANDBOX0"  # no sandbox: left alone
    monkeypatch.setattr(_core.STATE, "active", True)
    assert set(pip_environment(environ)) == {"PATH", "PIP_USER"}


def test_a_folder_over_lambdas_limit_is_refused(function, tmp_path):
    assert MAX_UNZIPPED_BYTES == 262_144_000
    code = _write(tmp_path / "src", {"app.py": APP, "data.bin": "x" * 2000})
    with pytest.raises(SandboxError, match="holds more than 1,000 bytes, Lambda's limit"):
        build_function(code, logical_id="BigFunction", max_bytes=1000)
    infos = zipfile.ZipFile(io.BytesIO(function.first.zip_bytes)).infolist()
    code_only = sum(i.file_size for i in infos if not i.filename.startswith("tinydep"))
    with pytest.raises(SandboxError, match=r"code with its dependencies \(tinydep\) comes to"):
        build_function(function.code, cache_dir=str(function.cache), max_bytes=code_only)  # the code alone fits


def test_other_runtimes_are_zipped_as_they_are(tmp_path, pip_runs, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-npm"))  # Node.js without npm: zipped as it is, with a warning
    code = _write(
        tmp_path / "node",
        {"index.mjs": "export const handler = async () => 1;\n", "requirements.txt": "tinydep\n",
         "package.json": '{"dependencies": {"left-pad": "1.3.0"}}', ".git/HEAD": "x"},
    )  # fmt: skip
    built = build_function(code, runtime="nodejs20.x", logical_id="NodeFunction")
    assert _names(built) == ["index.mjs", "package.json", "requirements.txt"] and pip_runs == []
    (warning,) = built.warnings
    assert "NodeFunction" in warning and "npm install" in warning
    (code / "node_modules").mkdir()
    assert build_function(code, runtime="nodejs20.x").warnings == ()


def test_what_cannot_be_built_says_why(tmp_path):
    with pytest.raises(SandboxError, match="is not a folder"):
        build_function(tmp_path / "missing", logical_id="Nowhere")
    with pytest.raises(SandboxError, match="BuildMethod makefile"):
        build_layer(_write(tmp_path / "layer", {"Makefile": "build:\n"}), build_method="makefile")


def test_the_cache_key_follows_files_a_requirement_names_by_path(tmp_path):
    folder = _write(tmp_path, {"requirements.txt": "-r more.txt\n", "more.txt": "tinydep==1.0\n"})
    key = dependency_key(folder / "requirements.txt", "python3.12")
    assert dependency_key(folder / "requirements.txt", "python3.13") != key
    (folder / "more.txt").write_text("tinydep==2.0\n")
    assert dependency_key(folder / "requirements.txt", "python3.12") != key


def test_the_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKMAIL_SANDBOX_CACHE", str(tmp_path / "mine"))
    assert cache_root() == str(tmp_path / "mine")
    monkeypatch.delenv("WORKMAIL_SANDBOX_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == str(tmp_path / "xdg" / "workmail-sandbox")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == str(tmp_path / "home" / ".cache" / "workmail-sandbox")


# Node.js: npm installs package.json's dependencies ----------------------------------------------------

FAKE_NPM = """#!/bin/sh
# Stands in for npm: records how it was run, then installs one package (or fails, or hangs).
echo "$* | $(ls -A | tr '\\n' ' ')| global=${npm_config_global:-} registry=${npm_config_registry:-} aws=${AWS_ACCESS_KEY_ID:-}" >> "$FAKE_NPM_LOG"
[ -n "$FAKE_NPM_SLEEP" ] && sleep "$FAKE_NPM_SLEEP"
mkdir -p node_modules/tiny node_modules/.bin
echo "module.exports = 42;" > node_modules/tiny/index.js
printf '{"packages": {"": {}, "node_modules/tiny": {"version": "1.0.0"}}}' > node_modules/.package-lock.json
"""
NODE_APP = "import tiny from 'tiny';\nexport const handler = async () => tiny;\n"


@pytest.fixture
def fake_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in ``npm`` first on the PATH; returns the file it logs each run to."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "npm").write_text(FAKE_NPM, encoding="utf-8")
    (folder / "npm").chmod(0o755)
    log = tmp_path / "npm-runs.log"
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_NPM_LOG", str(log))
    return log


def _npm_runs(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_npm_installs_a_node_functions_dependencies_once_beside_its_code(tmp_path, fake_npm, monkeypatch, pip_runs):
    monkeypatch.setenv("npm_config_registry", "https://npm.example.internal/")  # the user's npm configuration
    monkeypatch.setenv("npm_config_global", "true")  # would send the install elsewhere: dropped
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAWORKMAILSANDBOX0")  # as the running sandbox sets it
    code = _write(
        tmp_path / "src",
        {"index.mjs": NODE_APP, "package.json": '{"type": "module", "dependencies": {"tiny": "1.0.0"}}',
         ".npmrc": "registry=https://npm.example.internal/\n", "node_modules/stale/index.js": "old copy",
         "lib/node_modules/kept.js": "code", "package-lock.json": '{"lockfileVersion": 3}'},
    )  # fmt: skip
    first = build_function(code, runtime="nodejs20.x", logical_id="NodeFunction",
                           saved_environ={"AWS_ACCESS_KEY_ID": None})  # fmt: skip
    second = build_function(code, runtime="nodejs20.x", logical_id="NodeFunction")

    assert _names(first) == [
        "index.mjs", "lib/node_modules/kept.js", "node_modules/.package-lock.json", "node_modules/tiny/index.js",
        "package-lock.json", "package.json",
    ]  # fmt: skip
    assert first.installed == ("tiny",) and first.warnings == ()
    assert second.sha256 == first.sha256
    (run,) = _npm_runs(fake_npm)  # once for the same package.json and lock file
    assert run == (
        "install --omit=dev --no-audit --no-fund | .npmrc package-lock.json package.json | global= "
        "registry=https://npm.example.internal/ aws="
    )
    assert pip_runs == []
    Path(code / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}')
    build_function(code, runtime="nodejs20.x")
    assert len(_npm_runs(fake_npm)) == 2  # another lock file: another install


def test_without_dependencies_or_without_npm_a_node_function_is_zipped_as_it_is(tmp_path, fake_npm, monkeypatch):
    code = _write(tmp_path / "src", {"index.mjs": NODE_APP, "package.json": '{"devDependencies": {"x": "1"}}'})
    assert _names(build_function(code, runtime="nodejs20.x")) == ["index.mjs", "package.json"]
    assert _npm_runs(fake_npm) == []  # devDependencies only: nothing to install
    _write(code, {"package.json": '{"dependencies": {"tiny": "1"}}', "node_modules/tiny/index.js": "mine"})
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    built = build_function(code, runtime="nodejs20.x")
    assert "node_modules/tiny/index.js" in _names(built) and built.warnings == ()  # the folder's own copy
    assert _npm_runs(fake_npm) == []


def test_the_npm_cache_key_follows_package_json_its_lock_files_the_runtime_and_node(tmp_path):
    folder = _write(tmp_path, {"package.json": '{"dependencies": {"tiny": "1"}}'})
    key = sam_build.npm_dependency_key(folder / "package.json", "nodejs20.x", node_version="v20.1.0")
    assert sam_build.npm_dependency_key(folder / "package.json", "nodejs22.x", node_version="v20.1.0") != key
    assert sam_build.npm_dependency_key(folder / "package.json", "nodejs20.x", node_version="v22.1.0") != key
    _write(folder, {"npm-shrinkwrap.json": "{}"})
    assert sam_build.npm_dependency_key(folder / "package.json", "nodejs20.x", node_version="v20.1.0") != key


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_an_npm_failure_is_one_line_with_npms_reason(tmp_path, monkeypatch):
    import socket

    with socket.socket() as probe:  # a loopback port nothing listens on: npm's registry, refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("npm_config_registry", f"http://127.0.0.1:{port}/")
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    code = _write(tmp_path / "src", {"index.mjs": NODE_APP, "package.json": '{"dependencies": {"tiny": "1.0.0"}}'})
    with pytest.raises(SandboxError) as caught:
        build_function(code, runtime="nodejs20.x", logical_id="BrokenNodeFunction")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(
        f"Function BrokenNodeFunction: npm could not install the dependencies of {code / 'package.json'} (exit status 1): "
    )
    assert f"request to http://127.0.0.1:{port}/tiny failed, reason: connect ECONNREFUSED" in message
    assert "npm install --omit=dev" in caught.value.fix
    assert not (Path(cache_root()) / "deps").exists() or not list((Path(cache_root()) / "deps").iterdir())


def test_npm_is_stopped_at_the_timeout(tmp_path, fake_npm, monkeypatch):
    monkeypatch.setenv("FAKE_NPM_SLEEP", "30")
    code = _write(tmp_path / "src", {"index.mjs": NODE_APP, "package.json": '{"dependencies": {"tiny": "1"}}'})
    with pytest.raises(SandboxError, match=r"npm did not finish installing .* in 0.3 s, and was stopped") as caught:
        build_function(code, runtime="nodejs20.x", timeout=0.3)
    assert "timeout=" in caught.value.fix
    assert list((Path(cache_root()) / "tmp").iterdir()) == []
