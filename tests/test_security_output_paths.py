"""Issue 15, class 3: one rule for every output path (toolkit.writefile).

Only regular files are replaced (devices, FIFOs, sockets, folders and symbolic links are refused); a full disk,
a read-only or immutable folder and a permission error become an ``Error:`` naming the path; no temp file is
left after any failure; new files that name users are 0600 whatever the umask.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from toolkit.apply.journal import Journal
from toolkit.cli.main import cli
from toolkit.errors import InputError
from toolkit import writefile as atomic
from toolkit.writefile import atomic_write, write_text
from toolkit.report.csvout import write_csv

from plan_helpers import member, target_tenant, tenant


def _plan():
    from toolkit.plan import plan_sync
    return plan_sync(tenant([member(1), member(2)]), target_tenant([]))


def _writers(tmp_path):
    """Every kind of writer, as (name, function of a path)."""
    plan = _plan()
    frame = pd.DataFrame({"a": [1, 2]})
    return {
        "text": lambda p: write_text(p, "hello\n"),
        "plan": lambda p: plan.save(p),
        "csv": lambda p: write_csv(frame, p),
        "callback": lambda p: atomic_write(p, lambda tmp: Path(tmp).write_text("x")),
    }


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp"))


@pytest.fixture()
def umask_000():
    old = os.umask(0o000)
    try:
        yield
    finally:
        os.umask(old)


def _special(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"special-{kind}"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        sock.close()
    elif kind == "folder":
        path.mkdir()
    elif kind == "symlink":
        (tmp_path / "real.txt").write_text("real")
        path.symlink_to(tmp_path / "real.txt")
    elif kind == "dangling":
        path.symlink_to(tmp_path / "nowhere.txt")
    elif kind == "link-to-folder":
        (tmp_path / "dir").mkdir()
        path.symlink_to(tmp_path / "dir")
    elif kind == "device":
        try:
            os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 7))      # what /dev/full is
        except (PermissionError, OSError):
            pytest.skip("cannot create a device node here")
    return path


@pytest.mark.parametrize("kind", ["fifo", "socket", "folder", "symlink", "dangling", "link-to-folder", "device"])
@pytest.mark.parametrize("writer", ["text", "plan", "csv", "callback"])
def test_anything_but_a_regular_file_is_refused_and_left_as_it_was(tmp_path, kind, writer):
    path = _special(tmp_path, kind)
    before = os.lstat(path)
    with pytest.raises(InputError) as info:
        _writers(tmp_path)[writer](path)
    assert str(path) in str(info.value)
    after = os.lstat(path)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode) and after.st_ino == before.st_ino
    assert _leftovers(tmp_path) == []
    if kind == "symlink":
        assert (tmp_path / "real.txt").read_text() == "real"


def test_dev_full_is_refused_by_the_cli(tmp_path):
    """The case from the issue: 'atomically' writing a plan onto /dev/full replaced it (as root)."""
    from security_helpers import write_pair
    src, tgt = write_pair(tmp_path)
    result = CliRunner().invoke(cli, ["plan", "--source", str(src), "--target", str(tgt), "--out", "/dev/full"])
    assert result.exit_code == 2, result.output
    assert "Error:" in result.stderr and "/dev/full" in result.stderr and "character device" in result.stderr
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.parametrize("code,words", [(errno.ENOSPC, "full"), (errno.EROFS, "read-only"),
                                        (errno.EACCES, "permission"), (errno.EPERM, "immutable"),
                                        (getattr(errno, "EDQUOT", errno.ENOSPC), "full")])
@pytest.mark.parametrize("where", ["write", "replace"])
def test_os_errors_become_an_error_naming_the_path_and_leave_nothing(tmp_path, monkeypatch, code, words, where):
    target = tmp_path / "out.json"
    target.write_text("previous")

    def fail(*_args, **_kwargs):
        raise OSError(code, os.strerror(code))

    if where == "replace":
        monkeypatch.setattr(atomic.os, "replace", fail)
        writer = lambda: write_text(target, "new")                       # noqa: E731
    else:
        def writer():
            def write(tmp):
                Path(tmp).write_text("half")
                fail()
            return atomic_write(target, write)
    with pytest.raises(InputError) as info:
        writer()
    message = str(info.value)
    assert str(target) in message and words in message.lower()
    assert target.read_text() == "previous"
    assert _leftovers(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_ctrl_c_while_writing_leaves_no_temp_file(tmp_path):
    def write(tmp):
        Path(tmp).write_text("half")
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "x.csv", write)
    assert list(tmp_path.iterdir()) == []


def test_cannot_create_the_temp_file_is_an_error(tmp_path, monkeypatch):
    def no_space(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(atomic.tempfile, "mkstemp", no_space)
    with pytest.raises(InputError, match="No space left") as info:
        write_text(tmp_path / "a.txt", "x")
    assert str(tmp_path / "a.txt") in str(info.value)


def test_files_that_name_users_are_created_0600_under_umask_000(tmp_path, umask_000):
    plan = _plan().save(tmp_path / "plan.json")
    csv = write_csv(pd.DataFrame({"userPrincipalName": ["a@b.c"]}), tmp_path / "users.csv")
    Journal(tmp_path / "plan.json.journal.sqlite", "digest").close()
    for path in (plan, csv, tmp_path / "plan.json.journal.sqlite"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    public = write_text(tmp_path / "catalog.csv", "x", private=False)
    assert stat.S_IMODE(public.stat().st_mode) == 0o666


def test_a_replaced_file_keeps_its_mode(tmp_path):
    target = write_text(tmp_path / "shared.csv", "a")
    os.chmod(target, 0o644)
    write_text(target, "b")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644 and target.read_text() == "b"


def test_journal_path_that_is_a_fifo_is_refused(tmp_path):
    fifo = tmp_path / "j.sqlite"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="FIFO"):
        Journal(fifo, "digest")


def test_snapshot_out_that_is_a_symlink_or_a_file_is_refused(tmp_path):
    from toolkit.export import RawTenant
    from toolkit.export.build import build_tenant_data
    from toolkit.export.snapshot import write_snapshot
    raw = RawTenant("t-0", "gcch", "2026-01-01T00:00:00Z", users=[], subscribed_skus=[], domains=[])
    data = build_tenant_data(raw)
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(InputError, match="symbolic link"):
        write_snapshot(raw, data, tmp_path / "link", overwrite=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        write_snapshot(raw, data, tmp_path / "file", overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "link", "real"]
    snap = write_snapshot(raw, data, tmp_path / "snap")
    assert stat.S_IMODE(snap.stat().st_mode) == 0o700


def test_demo_leaves_no_temp_files_and_keeps_user_files_private(tmp_path, monkeypatch):
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "-o", "json"])
    assert result.exit_code == 0, result.stderr
    files = [p for p in out.rglob("*")]
    assert not [p for p in files if p.name.startswith(".") or p.name.endswith(".tmp") or "partial" in p.name]
    for name in ("plan.json", "plan.json.journal.sqlite", "apply-results.csv", "apply-results.xlsx", "plan.xlsx",
                 "eligibility.xlsx", "demo.json", "migration-plan.json.passwords.csv", "logs-audit.xlsx"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600, name
    # The folders that hold them are private too: the demo's output and each tenant's saved Graph JSON.
    for folder in [out, *(p for p in out.iterdir() if p.is_dir() and (p / "users.json").exists())]:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_demo_on_a_full_disk_fails_cleanly_without_leftovers(tmp_path, monkeypatch):
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))
    real_replace = os.replace
    calls = {"n": 0}

    def full_after_a_few(src, dst):
        calls["n"] += 1
        if calls["n"] > 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", full_after_a_few)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "-o", "json"])
    assert "Traceback" not in result.output and "Internal error" not in result.stderr
    assert result.exit_code in (1, 2)
    assert "No space left" in result.stderr
    leftovers = [p for p in out.rglob("*") if p.name.startswith(".") or p.name.endswith(".tmp")]
    assert leftovers == []
