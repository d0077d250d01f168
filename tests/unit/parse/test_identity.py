import pytest

from wizwatch.parse.identity import event_identity


def test_identity_per_log_type() -> None:
    assert event_identity("Wiz.Audit", {"id": "a1"}) == "Wiz.Audit:a1"
    issue = {"id": "i1", "statusChangedAt": "2024-01-01T00:00:00Z", "updatedAt": "x"}
    assert event_identity("Wiz.Issues", issue) == "Wiz.Issues:i1:2024-01-01T00:00:00Z"
    assert event_identity("Wiz.Issues", {"id": "i1", "updatedAt": "u"}) == "Wiz.Issues:i1:u"
    finding = {"id": "f1", "updatedAt": "2024-01-02T00:00:00Z"}
    assert (
        event_identity("Wiz.VulnerabilityFinding", finding)
        == "Wiz.VulnerabilityFinding:f1:2024-01-02T00:00:00Z"
    )
    hook = {"issue": {"id": "h", "status": "OPEN"}, "trigger": {"type": "Open"}}
    assert event_identity("Wiz.IssuesWebhook", hook) == "Wiz.IssuesWebhook:h:Open:OPEN"


def test_state_changes_of_one_issue_are_different_events() -> None:
    a = event_identity("Wiz.Issues", {"id": "i1", "statusChangedAt": "t1"})
    b = event_identity("Wiz.Issues", {"id": "i1", "statusChangedAt": "t2"})
    assert a != b


def test_record_without_id_is_an_error() -> None:
    with pytest.raises(ValueError, match="no id"):
        event_identity("Wiz.Audit", {"action": "Login"})
