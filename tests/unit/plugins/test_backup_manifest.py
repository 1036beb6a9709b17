"""backup_manifest: sealing a backup, refusing a missing or corrupt one, picking the newest, pruning."""

import json

from ansible_collections.datalake_fb.platform.plugins.modules import backup_manifest


def make_backup(repository, backup_id, files=None):
    directory = repository / backup_id
    (directory / "buckets").mkdir(parents=True)
    for name, content in (files or {"mariadb.xbstream.gz": b"db", "buckets/warehouse.tar.gz": b"objects"}).items():
        (directory / name).write_bytes(content)
    return directory


def seal(run_module, repository, backup_id, **extra):
    args = {"repository": str(repository), "backup_id": backup_id, "state": "written"}
    return run_module(backup_manifest.main, dict(args, **extra))


def test_written_manifest_lists_every_file_and_verifies(tmp_path, run_module):
    directory = make_backup(tmp_path, "20261130T100000Z")
    outcome, result = seal(run_module, tmp_path, "20261130T100000Z", info={"topics": 3})
    assert outcome == "exit" and result["changed"]
    manifest = json.loads((directory / "manifest.json").read_text())
    assert sorted(manifest["files"]) == ["buckets/warehouse.tar.gz", "mariadb.xbstream.gz"]
    assert manifest["bytes"] == 9 and manifest["info"] == {"topics": 3}
    outcome, result = run_module(backup_manifest.main, {"repository": str(tmp_path), "backup_id": "20261130T100000Z"})
    assert outcome == "exit" and not result["changed"] and result["manifest"] == manifest


def test_sealing_again_changes_nothing(tmp_path, run_module):
    make_backup(tmp_path, "b1")
    seal(run_module, tmp_path, "b1")
    outcome, result = seal(run_module, tmp_path, "b1")
    assert outcome == "exit" and not result["changed"]


def test_check_mode_writes_nothing(tmp_path, run_module):
    directory = make_backup(tmp_path, "b1")
    outcome, result = run_module(
        backup_manifest.main, {"repository": str(tmp_path), "backup_id": "b1", "state": "written"}, check_mode=True
    )
    assert outcome == "exit" and result["changed"] and not (directory / "manifest.json").exists()


def test_a_corrupt_or_missing_file_is_named(tmp_path, run_module):
    directory = make_backup(tmp_path, "b1")
    seal(run_module, tmp_path, "b1")
    (directory / "mariadb.xbstream.gz").write_bytes(b"dB")  # same size, other content
    (directory / "buckets" / "warehouse.tar.gz").unlink()
    (directory / "stray.txt").write_text("x")
    outcome, result = run_module(backup_manifest.main, {"repository": str(tmp_path), "backup_id": "b1"})
    assert outcome == "fail"
    assert "mariadb.xbstream.gz does not match its sha256" in result["msg"]
    assert "buckets/warehouse.tar.gz is missing" in result["msg"]
    assert "stray.txt is not in the manifest" in result["msg"]


def test_an_unfinished_or_absent_backup_is_refused(tmp_path, run_module):
    make_backup(tmp_path, "b1")
    outcome, result = run_module(backup_manifest.main, {"repository": str(tmp_path), "backup_id": "b1"})
    assert outcome == "fail" and "never finished" in result["msg"]
    outcome, result = run_module(backup_manifest.main, {"repository": str(tmp_path), "backup_id": "nope"})
    assert outcome == "fail" and "does not exist" in result["msg"]
    outcome, result = run_module(backup_manifest.main, {"repository": str(tmp_path), "backup_id": "latest"})
    assert outcome == "fail" and "no backup" in result["msg"]
    (tmp_path / "b1" / "manifest.json").write_text("{not json")
    outcome, result = run_module(backup_manifest.main, {"repository": str(tmp_path), "backup_id": "b1"})
    assert outcome == "fail" and "not a backup manifest" in result["msg"]


def test_latest_is_the_newest_complete_backup(tmp_path, run_module):
    for backup_id in ("20261129T000000Z", "20261130T000000Z"):
        make_backup(tmp_path, backup_id)
        seal(run_module, tmp_path, backup_id)
    make_backup(tmp_path, "20261201T000000Z")  # unfinished: no manifest
    outcome, result = run_module(backup_manifest.main, {"repository": str(tmp_path), "backup_id": "latest"})
    assert outcome == "exit" and result["backup_id"] == "20261130T000000Z"


def test_keep_prunes_the_oldest_complete_backups_only(tmp_path, run_module):
    for backup_id in ("a", "b", "c"):
        make_backup(tmp_path, backup_id)
        seal(run_module, tmp_path, backup_id)
    make_backup(tmp_path, "unfinished")
    make_backup(tmp_path, "d")
    outcome, result = seal(run_module, tmp_path, "d", keep=2)
    assert outcome == "exit" and result["pruned"] == ["a", "b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "d", "unfinished"]


def test_bad_input_is_refused(tmp_path, run_module):
    for args, message in (
        ({"backup_id": "../etc"}, "must be a directory name"),
        ({"backup_id": "b1", "state": "written", "keep": -1}, "keep must be 0"),
        ({"backup_id": "latest", "state": "written"}, "its own id"),
        ({"backup_id": "empty", "state": "written"}, "holds no file"),
    ):
        (tmp_path / "empty").mkdir(exist_ok=True)
        outcome, result = run_module(backup_manifest.main, dict({"repository": str(tmp_path)}, **args))
        assert outcome == "fail" and message in result["msg"], result
