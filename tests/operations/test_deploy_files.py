"""deploy/prometheus/alerts.yml and deploy/grafana/shop.json: valid PromQL (promtool), over metrics the
shop defines and exports (or Flower, for flower_*), and the alert rules mirroring the merchant's
e-mail alerts with the same default thresholds."""
import json
import re
import shutil
import subprocess
from importlib.util import find_spec
from pathlib import Path

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from shop import metrics
from shop.celery_config import OPERATIONS_DEFAULTS
from shop.operations.collector import database_gauges
from shop.operations.health import alert_conditions

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "shop.json"
RUNBOOK = ROOT / "docs" / "operations.md"
# Alert rule -> the e-mail alert (shop.operations.health's condition) it mirrors.
MIRRORS = {"MidtransNotificationsSilent": "silence", "ReconcilerSettlingMany": "reconciler",
           "NotificationsFailingOrWaiting": "processing", "PaymentEmailsFailing": "emails"}
PROMQL_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left",
                   "group_right", "inf", "nan"}
# The samples each type of metric exposes, after its family name.
SUFFIXES = {"counter": ("_total", "_created"), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum", "_created")}
PROMETHEUS_OWN = {"up"}  # what Prometheus adds to every scrape target


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


def dashboard_expressions() -> list[str]:
    return [t["expr"] for panel in json.loads(DASHBOARD.read_text())["panels"] for t in panel["targets"]]


def metric_names(expr: str) -> set[str]:
    """The metric names in a PromQL expression: what is left without selectors, strings, ranges,
    grouping clauses, functions (a name before "(") and keywords."""
    expr = re.sub(r'\{[^}]*\}|"[^"]*"|\[[^]]*\]', " ", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    words = re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", expr)
    return {word for word in words if word.lower() not in PROMQL_KEYWORDS}


def sample_names(family: str, kind: str) -> set[str]:
    return {family + suffix for suffix in SUFFIXES[kind]}


def shop_defined_names() -> set[str]:
    """Every sample name shop/metrics.py declares and shop/operations/collector.py reads from the database."""
    declared = [m for m in vars(metrics).values() if isinstance(m, MetricWrapperBase)]
    names = {name for m in declared for name in sample_names(m._name, m._type)}
    return names | {name for name, _, _ in database_gauges(empty_snapshot())}


def flower_defined_names() -> set[str]:
    """The metrics Flower's /metrics exports, read from its source (importing it would register them here)."""
    source = Path(find_spec("flower.events").origin).read_text()
    kinds = {"PrometheusCounter": "counter", "Counter": "counter", "Gauge": "gauge", "Histogram": "histogram"}
    found = re.findall(r"(PrometheusCounter|Counter|Gauge|Histogram)\(\s*'(flower_\w+)'", source)
    # Flower names its counter with the _total already; prometheus_client exposes it once.
    return {name for kind, family in found for name in sample_names(family.removesuffix("_total"), kinds[kind])}


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


def test_every_expression_names_only_metrics_the_shop_or_flower_defines(app):
    expressions = [rule["expr"] for rule in rules()] + dashboard_expressions()
    known = shop_defined_names() | flower_defined_names() | PROMETHEUS_OWN
    named = {name for expr in expressions for name in metric_names(expr)}
    assert "flower_events_total" in known and "shop_notification_lag_seconds_bucket" in known
    assert named - known == set()
    assert {"shop_webhook_notifications_total", "shop_payments_open", "flower_events_total"} <= named


def test_what_the_shop_defines_is_what_metrics_exports(client):
    """The names compared above are the ones /metrics serves: the same families, whatever the suffixes."""
    def families(names):
        return {re.sub(r"_(total|created|bucket|count|sum)$", "", name) for name in names if name.startswith("shop_")}

    assert families(shop_defined_names()) == families(exported_names(client))


def test_the_dashboard_is_grafana_json():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["panels"]
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])


def test_metric_names_are_read_from_promql():
    assert metric_names('sum by (le) (rate(shop_x_bucket{outcome="stored"}[5m])) / on (job) up') == {"shop_x_bucket",
                                                                                                     "up"}
    assert metric_names("time() - shop_last > 3600 and increase(shop_y_total[1h]) > 0") == {"shop_last", "shop_y_total"}


NEEDS_PROMTOOL = pytest.mark.skipif(shutil.which("promtool") is None,
                                    reason="promtool is not installed (bin/test installs it)")


def promtool_check_rules(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60)


@NEEDS_PROMTOOL
def test_promtool_accepts_the_rules():
    done = promtool_check_rules(RULES)
    assert done.returncode == 0, done.stdout + done.stderr


@NEEDS_PROMTOOL
def test_promtool_accepts_every_dashboard_query(tmp_path):
    """Each panel's query written as a recording rule: promtool parses every expression."""
    expressions = dashboard_expressions()
    recorded = [{"record": f"dashboard:query_{i}", "expr": expr} for i, expr in enumerate(expressions)]
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": recorded}]}))
    done = promtool_check_rules(path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(expressions)} rules found" in done.stdout


@NEEDS_PROMTOOL
def test_promtool_refuses_a_broken_query(tmp_path):
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "x", "rules": [
        {"record": "dashboard:broken", "expr": "sum by (outcome (rate(shop_webhook_notifications_total[5m]))"}]}]}))
    assert promtool_check_rules(path).returncode != 0
