"""secret_exposure_info: secrets in world-readable files, logs, the journal and command lines."""

from ansible_collections.datalake_fb.platform.plugins.modules import secret_exposure_info

SECRETS = {"db_password": "s3cr3t-db-password", "spark_secret": "A" * 40, "short": "abc"}


def make_tree(tmp_path):
    conf, logs, proc = tmp_path / "etc", tmp_path / "log", tmp_path / "proc"
    for directory in (conf / "sub", logs, proc / "12", proc / "345", proc / "self"):
        directory.mkdir(parents=True)
    (conf / "open.conf").write_text("password=s3cr3t-db-password\n")
    (conf / "open.conf").chmod(0o644)
    (conf / "sub" / "closed.conf").write_text("secret=" + "A" * 40 + "\n")
    (conf / "sub" / "closed.conf").chmod(0o640)
    (conf / "harmless.conf").write_text("nothing here, abc\n")
    (conf / "harmless.conf").chmod(0o644)
    (logs / "service.log").write_text("started\nlogin with s3cr3t-db-password\n")
    (logs / "quiet.log").write_text("started\n")
    (proc / "12" / "cmdline").write_bytes(b"java\0-Dspark.authenticate.secret=" + b"A" * 40 + b"\0")
    (proc / "345" / "cmdline").write_bytes(b"nginx\0-g\0daemon off;\0")
    return conf, logs, proc


def run(run_module, tmp_path, monkeypatch, journal=b"", **extra):
    conf, logs, proc = make_tree(tmp_path)
    monkeypatch.setattr(
        secret_exposure_info.AnsibleModule, "run_command", lambda self, argv, encoding=None: (0, journal, b"")
    )
    args = {"secrets": SECRETS, "config_paths": [str(conf)], "log_paths": [str(logs)], "proc_root": str(proc)}
    return run_module(secret_exposure_info.main, dict(args, **extra))


def test_each_exposure_is_found_and_named(tmp_path, run_module, monkeypatch):
    journal = b"Dec 01 node spark[1]: secret " + b"A" * 40 + b"\n"
    outcome, result = run(run_module, tmp_path, monkeypatch, journal=journal)
    assert outcome == "exit" and not result["changed"]
    found = {(item["check"], item["where"].replace(str(tmp_path), ""), item["secret"]) for item in result["findings"]}
    assert found == {
        ("world_readable_file", "/etc/open.conf", "db_password"),
        ("log_file", "/log/service.log", "db_password"),
        ("journal", "journalctl", "spark_secret"),
        ("process", "pid 12", "spark_secret"),
    }
    # the 0640 file holds a secret too, but only its owner and group read it
    assert result["skipped"] == ["short"]
    assert result["scanned"]["files"] == 5 and result["scanned"]["processes"] == 2
    assert "s3cr3t" not in repr(result) and "A" * 40 not in repr(result)


def test_a_clean_node_has_no_findings(tmp_path, run_module, monkeypatch):
    outcome, result = run(run_module, tmp_path, monkeypatch, secrets={"other": "not-anywhere-at-all"})
    assert outcome == "exit" and result["findings"] == [] and result["scanned"]["journal_bytes"] == 0


def test_a_value_split_between_two_reads_is_found():
    needles = {"key": b"0123456789abcdef"}
    data = b"x" * (secret_exposure_info.CHUNK - 5) + b"0123456789abcdef" + b"y" * 10
    position = 0

    def read(size):
        nonlocal position
        chunk = data[position : position + size]
        position += len(chunk)
        return chunk

    found, total = secret_exposure_info.secrets_in_stream(read, needles, 1 << 30)
    assert found == {"key"} and total == len(data)


def test_bad_input_is_refused(tmp_path, run_module, monkeypatch):
    outcome, result = run(run_module, tmp_path, monkeypatch, max_file_bytes=0)
    assert outcome == "fail" and "max_file_bytes must be 1 or more" in result["msg"]
