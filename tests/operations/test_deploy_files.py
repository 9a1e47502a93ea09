"""deploy/prometheus/alerts.yml and deploy/grafana/shop.json: valid, over metrics the shop exports, and
the alert rules mirroring the merchant's e-mail alerts with the same default thresholds."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from shop.celery_config import OPERATIONS_DEFAULTS
from shop.operations.health import alert_conditions

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "shop.json"
RUNBOOK = ROOT / "docs" / "operations.md"
# Alert rule -> the e-mail alert (shop.operations.health's condition) it mirrors.
MIRRORS = {"MidtransNotificationsSilent": "silence", "ReconcilerSettlingMany": "reconciler",
           "NotificationsFailingOrWaiting": "processing", "PaymentEmailsFailing": "emails"}
PROMQL_WORDS = {"time", "increase", "rate", "sum", "by", "and", "or", "histogram_quantile", "le", "up", "job",
                "result", "outcome", "reason", "transaction_status", "kind", "task", "type"}


def empty_snapshot():
    from shop.models import utcnow
    from shop.operations.snapshot import take_snapshot

    return take_snapshot(utcnow())


def rules() -> list[dict]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def exported_names(client) -> set[str]:
    text = client.get("/metrics", headers={"Authorization": "Bearer test-metrics-token"}).get_data(as_text=True)
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def metric_names(expr: str) -> set[str]:
    """The metric names in a PromQL expression (functions, labels and keywords left out)."""
    expr = re.sub(r'\{[^}]*\}|"[^"]*"|\[[^]]*\]', " ", expr)
    return {word for word in re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*", expr) if word not in PROMQL_WORDS}


def known(name: str, exported: set[str]) -> bool:
    base = re.sub(r"_(total|bucket|count|sum)$", "", name)
    return name in exported or base in exported or name.startswith("flower_") or name == "up"


def test_every_rule_is_complete_and_documented():
    anchors = {m.lower() for m in re.findall(r"^#{3,4} (\w+)", RUNBOOK.read_text(), re.MULTILINE)}
    for rule in rules():
        assert set(rule) >= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"]
        assert rule["annotations"]["runbook"] == f"docs/operations.md#{rule['alert'].lower()}"
        assert rule["alert"].lower() in anchors, f"{rule['alert']} has no section in docs/operations.md"


def test_the_rules_mirror_each_email_alert_with_its_default_threshold(app):
    by_name = {rule["alert"]: rule["expr"] for rule in rules()}
    assert set(MIRRORS.values()) == set(alert_conditions(empty_snapshot()))  # every e-mail alert has its rule
    defaults = {name: default for name, (default, _) in OPERATIONS_DEFAULTS.items()}
    assert f"> {defaults['ALERT_SILENCE_MINUTES'] * 60}" in by_name["MidtransNotificationsSilent"]
    assert f"> {defaults['ALERT_RECONCILE_SETTLED_MAX']}" in by_name["ReconcilerSettlingMany"]
    assert f"> {defaults['ALERT_WAITING_MINUTES'] * 60}" in by_name["NotificationsFailingOrWaiting"]
    assert set(MIRRORS) <= set(by_name)


def test_every_expression_uses_metrics_the_shop_exports(client):
    exported = exported_names(client)
    expressions = [rule["expr"] for rule in rules()]
    expressions += [t["expr"] for panel in json.loads(DASHBOARD.read_text())["panels"] for t in panel["targets"]]
    unknown = {name for expr in expressions for name in metric_names(expr) if not known(name, exported)}
    assert unknown == set()


def test_the_dashboard_is_grafana_json():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["panels"]
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed (bin/test installs it)")
def test_promtool_accepts_the_rules():
    done = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
