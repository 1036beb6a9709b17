"""password_file: hashes that verify, re-runs that keep them, changed passwords, bad input."""

import base64
import hashlib
import subprocess

import pytest

from ansible_collections.datalake_fb.platform.plugins.modules import password_file

USERS = [{"name": "dlfb_admin", "password": "first-secret-1"}, {"name": "analyst_north", "password": "second-secret"}]


def write(run_module, path, users=USERS, **extra):
    return run_module(password_file.main, dict({"path": str(path), "users": users, "iterations": 10000}, **extra))


def lines(path):
    return [line for line in path.read_text().splitlines() if not line.startswith("#")]


def test_each_line_is_the_pbkdf2_of_its_password(tmp_path, run_module):
    path = tmp_path / "sql-users"
    outcome, result = write(run_module, path, mode="0640")
    assert outcome == "exit" and result["changed"]
    assert result["users"] == ["dlfb_admin", "analyst_north"] and result["rehashed"] == result["users"]
    assert path.stat().st_mode & 0o777 == 0o640
    for line, user in zip(lines(path), USERS, strict=True):
        name, iterations, salt, digest = line.split(":")
        assert name == user["name"] and iterations == "10000"
        expected = hashlib.pbkdf2_hmac("sha256", user["password"].encode(), base64.b64decode(salt), 10000, 32)
        assert base64.b64decode(digest) == expected
    assert "secret" not in path.read_text() and "secret" not in repr(result)


def test_same_passwords_change_nothing(tmp_path, run_module):
    path = tmp_path / "sql-users"
    write(run_module, path)
    before = path.read_text()
    outcome, result = write(run_module, path)
    assert outcome == "exit" and not result["changed"] and result["rehashed"] == []
    assert path.read_text() == before


def test_a_changed_password_rehashes_only_that_user(tmp_path, run_module):
    path = tmp_path / "sql-users"
    write(run_module, path)
    before = lines(path)
    changed = [USERS[0], {"name": "analyst_north", "password": "a-new-secret"}]
    outcome, result = write(run_module, path, users=changed)
    assert outcome == "exit" and result["changed"] and result["rehashed"] == ["analyst_north"]
    after = lines(path)
    assert after[0] == before[0] and after[1] != before[1]
    assert password_file.verifies(password_file.parse(path.read_text())["analyst_north"], "a-new-secret")


def test_unlisted_users_are_removed(tmp_path, run_module):
    path = tmp_path / "sql-users"
    write(run_module, path)
    outcome, result = write(run_module, path, users=USERS[:1])
    assert outcome == "exit" and result["changed"] and result["removed"] == ["analyst_north"]
    assert [line.split(":")[0] for line in lines(path)] == ["dlfb_admin"]


def test_check_mode_writes_nothing(tmp_path, run_module):
    path = tmp_path / "sql-users"
    outcome, result = run_module(
        password_file.main, {"path": str(path), "users": USERS, "iterations": 10000}, check_mode=True
    )
    assert outcome == "exit" and result["changed"] and not path.exists()


@pytest.mark.parametrize(
    ("users", "iterations", "message"),
    [
        ([{"name": "dlfb_admin", "password": ""}], 10000, "empty password: dlfb_admin"),
        ([{"name": "bad:name", "password": "x"}], 10000, "user name 'bad:name'"),
        ([USERS[0], USERS[0]], 10000, "listed twice: dlfb_admin"),
        ([], 10000, "nobody could log in"),
        (USERS, 1000, "iterations must be at least 10000"),
    ],
)
def test_bad_input_is_refused_before_writing(tmp_path, run_module, users, iterations, message):
    path = tmp_path / "sql-users"
    path.write_text("kept\n")
    outcome, result = run_module(password_file.main, {"path": str(path), "users": users, "iterations": iterations})
    assert outcome == "fail" and message in result["msg"]
    assert path.read_text() == "kept\n"


def test_malformed_lines_are_replaced(tmp_path, run_module):
    path = tmp_path / "sql-users"
    path.write_text("dlfb_admin:10000:not base64!:x\ngarbage\n")
    outcome, result = write(run_module, path, users=USERS[:1])
    assert outcome == "exit" and result["changed"] and result["rehashed"] == ["dlfb_admin"]
    assert len(lines(path)) == 1


def test_sha512_crypt_lines_verify_and_are_kept(tmp_path, run_module):
    path = tmp_path / "ui.htpasswd"
    outcome, result = write(run_module, path, scheme="sha512_crypt")
    assert outcome == "exit" and result["changed"] and result["rehashed"] == ["dlfb_admin", "analyst_north"]
    for line, user in zip(lines(path), USERS, strict=True):
        name, stored = line.split(":", 1)
        salt = stored.split("$")[2]
        # checked by another implementation of SHA-512 crypt: OpenSSL's
        openssl = subprocess.run(
            ["openssl", "passwd", "-6", "-salt", salt, "-stdin"],
            input=user["password"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert name == user["name"] and len(salt) == 16 and openssl.stdout.strip() == stored
    before = path.read_text()
    outcome, result = write(run_module, path, scheme="sha512_crypt")
    assert not result["changed"] and path.read_text() == before
    changed = [USERS[0], {"name": "analyst_north", "password": "other"}]
    outcome, result = write(run_module, path, users=changed, scheme="sha512_crypt")
    assert result["changed"] and result["rehashed"] == ["analyst_north"]
    assert lines(path)[0] == before.splitlines()[1]
    assert "secret" not in path.read_text() and "other" not in path.read_text()
