"""systemd_units: one systemctl show, a reload only when a unit needs it, enable and start in one call each,
check mode, refusals before anything starts."""

import pytest
from ansible.module_utils import basic

from ansible_collections.datalake_fb.platform.plugins.modules import systemd_units


def block(unit, load="loaded", file_state="enabled", active="active", reload="no"):
    lines = [f"Id={unit}", f"LoadState={load}", f"ActiveState={active}", f"NeedDaemonReload={reload}"]
    # systemctl show leaves out empty properties
    if file_state:
        lines.insert(2, f"UnitFileState={file_state}")
    return "\n".join(lines) + "\n"


class FakeSystemd:
    """Answers systemctl the way systemd would for the given units' states; a reload applies `after_reload`."""

    def __init__(self, states, after_reload=None, fail_on=None):
        self.states = dict(states)
        self.after_reload = after_reload or {}
        self.fail_on = fail_on
        self.calls = []

    def answer(self, args):
        command = args[1]
        self.calls.append(args[1:])
        if command == self.fail_on:
            return 1, "", f"Job for {args[2]} failed because the control process exited with error code."
        if command == "show":
            return 0, "\n".join(block(unit, **self.states[unit]) for unit in args[3:]), ""
        if command == "daemon-reload":
            self.states.update(self.after_reload)
        return 0, "", ""

    def mutations(self):
        return [call for call in self.calls if call[0] != "show"]


@pytest.fixture
def systemd(monkeypatch):
    def install(states, **kwargs):
        fake = FakeSystemd(states, **kwargs)
        monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, required=False: "/bin/systemctl")
        monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda _module, args, **_: fake.answer(args))
        return fake

    return install


def test_unit_names_get_the_service_suffix_unless_they_have_one():
    assert systemd_units.unit_name("kafka") == "kafka.service"
    assert systemd_units.unit_name("dlfb-backup.timer") == "dlfb-backup.timer"
    assert systemd_units.unit_name("spark-worker@1") == "spark-worker@1.service"


def test_show_output_is_split_per_unit_with_missing_properties_empty():
    output = block("a.service") + "\n" + block("b.service", load="not-found", file_state="", active="inactive")
    units = systemd_units.parse_show(output, ["a.service", "b.service"])
    assert units["a.service"] == {
        "LoadState": "loaded",
        "UnitFileState": "enabled",
        "ActiveState": "active",
        "NeedDaemonReload": "no",
    }
    assert units["b.service"]["UnitFileState"] == "" and units["b.service"]["LoadState"] == "not-found"
    with pytest.raises(ValueError):
        systemd_units.parse_show(output, ["a.service"])


def test_running_enabled_units_change_nothing_and_are_read_once(run_module, systemd):
    fake = systemd({"kafka.service": {}, "minio.service": {"active": "activating"}})
    outcome, result = run_module(systemd_units.main, {"names": ["kafka", "minio"]})
    assert outcome == "exit" and not result["changed"]
    assert result["started"] == [] and result["enabled"] == [] and not result["daemon_reloaded"]
    assert fake.mutations() == [] and len(fake.calls) == 1


def test_stopped_and_disabled_units_are_enabled_and_started_in_one_call_each(run_module, systemd):
    fake = systemd(
        {
            "spark-master.service": {"file_state": "disabled", "active": "inactive"},
            "spark-worker.service": {"file_state": "disabled", "active": "failed"},
            "spark-history.service": {"active": "inactive"},
            "spark-thrift.service": {},
        }
    )
    names = ["spark-master", "spark-worker", "spark-history", "spark-thrift"]
    outcome, result = run_module(systemd_units.main, {"names": names})
    assert outcome == "exit" and result["changed"]
    assert fake.mutations() == [
        ["enable", "spark-master.service", "spark-worker.service"],
        ["start", "spark-master.service", "spark-worker.service", "spark-history.service"],
    ]


def test_enabled_false_only_starts(run_module, systemd):
    fake = systemd({"kafka.service": {"file_state": "disabled", "active": "inactive"}})
    outcome, result = run_module(systemd_units.main, {"names": ["kafka"], "enabled": False})
    assert outcome == "exit" and result["enabled"] == [] and fake.mutations() == [["start", "kafka.service"]]


def test_a_changed_unit_file_is_reloaded_first_and_judged_after_the_reload(run_module, systemd):
    fake = systemd(
        {
            "kafka.service": {"reload": "yes"},
            "new.service": {"load": "not-found", "file_state": "", "active": "inactive"},
        },
        after_reload={"kafka.service": {}, "new.service": {"file_state": "disabled", "active": "inactive"}},
    )
    outcome, result = run_module(systemd_units.main, {"names": ["kafka", "new"]})
    assert outcome == "exit" and result["changed"] and result["daemon_reloaded"]
    assert fake.mutations() == [["daemon-reload"], ["enable", "new.service"], ["start", "new.service"]]
    assert result["units"]["new.service"]["LoadState"] == "not-found"


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ({"load": "not-found", "file_state": "", "active": "inactive"}, "gone.service is not-found to systemd"),
        ({"load": "masked", "file_state": "masked", "active": "inactive"}, "gone.service is masked"),
    ],
)
def test_unknown_or_masked_units_fail_before_anything_starts(run_module, systemd, state, expected):
    fake = systemd({"kafka.service": {"active": "inactive"}, "gone.service": state})
    outcome, result = run_module(systemd_units.main, {"names": ["kafka", "gone"]})
    assert outcome == "fail" and expected in result["msg"] and "nothing was started" in result["msg"]
    assert [call for call in fake.mutations() if call[0] in ("enable", "start")] == []


def test_check_mode_reports_the_change_and_runs_nothing(run_module, systemd):
    fake = systemd(
        {
            "kafka.service": {"file_state": "disabled", "active": "inactive"},
            "new.service": {"load": "not-found", "file_state": "", "active": "inactive"},
        }
    )
    outcome, result = run_module(systemd_units.main, {"names": ["kafka", "new"]}, check_mode=True)
    assert outcome == "exit" and result["changed"] and result["daemon_reloaded"]
    assert result["started"] == ["kafka.service", "new.service"]
    assert fake.mutations() == []


def test_a_failed_start_fails_with_systemds_words(run_module, systemd):
    systemd({"kafka.service": {"active": "inactive"}}, fail_on="start")
    outcome, result = run_module(systemd_units.main, {"names": ["kafka"]})
    assert outcome == "fail" and "systemctl start kafka.service failed: Job for kafka.service failed" in result["msg"]


@pytest.mark.parametrize("names", [[], ["kafka service"], ["--now"]])
def test_bad_names_are_refused_before_systemctl_runs(run_module, systemd, names):
    fake = systemd({})
    outcome, result = run_module(systemd_units.main, {"names": names})
    assert outcome == "fail" and result["msg"].startswith("names:") and fake.calls == []
