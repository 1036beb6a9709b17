"""The lab's notification sink (molecule/shared/files/notification_sink.py): finding and counting."""

import importlib.util
import json
from pathlib import Path

SPEC = importlib.util.spec_from_file_location(
    "notification_sink", Path(__file__).resolve().parents[2] / "molecule/shared/files/notification_sink.py"
)
sink = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(sink)


def webhook(received, group, status, *alerts):
    """A webhook record: alerts are (fingerprint, status, host)."""
    return {
        "received": received,
        "kind": "webhook",
        "body": {
            "groupKey": group,
            "status": status,
            "alerts": [
                {"fingerprint": f, "status": s, "labels": {"alertname": "TargetDown", "host": h}} for f, s, h in alerts
            ],
        },
    }


def test_find_returns_the_first_matching_receipt_after_since(tmp_path):
    out = tmp_path / "webhook.jsonl"
    records = [webhook(1, "g", "firing", ("a", "firing", "n1")), webhook(5, "g", "firing", ("a", "firing", "n1"))]
    out.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert sink.find(str(out), "TargetDown", "firing", 2, {"host": "n1"}) == 5
    assert sink.find(str(out), "TargetDown", "resolved", 0, {}) is None
    assert sink.find(str(tmp_path / "none.jsonl"), "TargetDown", "firing", 0, {}) is None


def test_a_group_sent_again_unchanged_is_a_repeat():
    records = [
        webhook(1, "g", "firing", ("a", "firing", "n1")),
        # a second Alertmanager sends the same group state: a repeat
        webhook(2, "g", "firing", ("a", "firing", "n1")),
        # the group changes (a second alert): a new notification, not a repeat
        webhook(3, "g", "firing", ("a", "firing", "n1"), ("b", "firing", "n1")),
        webhook(4, "g", "resolved", ("a", "resolved", "n1"), ("b", "resolved", "n1")),
    ]
    assert sink.count(records, "TargetDown", "firing", 0, {"host": "n1"}) == {"notifications": 3, "repeats": 1}
    assert sink.count(records, "TargetDown", "firing", 2.5, {"host": "n1"}) == {"notifications": 1, "repeats": 0}
    assert sink.count(records, "TargetDown", "resolved", 0, {}) == {"notifications": 1, "repeats": 0}


def test_groups_are_told_apart_and_mail_is_not_counted():
    records = [
        webhook(1, "g1", "firing", ("a", "firing", "n1")),
        webhook(2, "g2", "firing", ("a", "firing", "n1")),
        {"received": 3, "kind": "smtp", "body": "Subject: [FIRING:1] TargetDown n1\n\n"},
    ]
    assert sink.count(records, "TargetDown", "firing", 0, {}) == {"notifications": 2, "repeats": 0}


def mail(subject, body="Source: http://dlfb-mol-ha1:9090/graph node\n"):
    return {"received": 1, "kind": "smtp", "body": f"From: am@lab\r\nSubject: {subject}\r\n\r\n{body}"}


def test_a_mail_matches_on_its_subject_only():
    alone = mail("[FIRING:1] TargetDown dlfb-mol-ha1 (dlfb-mol-ha1:9100 node critical)")
    assert sink.matches(alone, "TargetDown", "firing", {"host": "dlfb-mol-ha1", "job": "node"})
    assert not sink.matches(alone, "TargetDown", "resolved", {})
    # a group of several alerts names no job in its subject; the body's words do not count
    several = mail("[FIRING:3] TargetDown dlfb-mol-ha1 (critical)")
    assert not sink.matches(several, "TargetDown", "firing", {"host": "dlfb-mol-ha1", "job": "node"})
    # another host's alert, whose body links to the first host
    other = mail("[FIRING:1] TargetDown (localhost:9090 prometheus critical)")
    assert not sink.matches(other, "TargetDown", "firing", {"host": "dlfb-mol-ha1"})


def test_a_folded_subject_is_read_whole():
    folded = mail("[RESOLVED] KafkaConsumerLag\r\n (molecule-lagging warning)")
    assert sink.matches(folded, "KafkaConsumerLag", "resolved", {"group": "molecule-lagging"})
