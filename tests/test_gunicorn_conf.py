"""gunicorn.conf.py's hooks, called as gunicorn calls them (the process tests run them for real)."""
import gc
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def test_a_started_worker_leaves_the_loaded_app_out_of_garbage_collection():
    hooks = runpy.run_path(str(CONF))
    assert gc.get_freeze_count() == 0
    try:
        hooks["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 10_000  # the test process's modules, app and all
        garbage = [[]]
        garbage[0].append(garbage)  # a cycle made afterwards is still collected
        del garbage
        assert gc.collect() > 0
    finally:
        gc.unfreeze()


def test_the_web_process_empties_its_own_metrics_directory_and_forgets_dead_workers(tmp_path, monkeypatch):
    from prometheus_client import values

    monkeypatch.setenv("METRICS_DIR", str(tmp_path))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # restored afterwards, as is the value mode
    monkeypatch.setattr(values, "ValueClass", values.ValueClass)
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "counter_1.db").write_bytes(b"from the last run")
    (tmp_path / "worker").mkdir()
    (tmp_path / "worker" / "counter_2.db").write_bytes(b"a running worker's")
    hooks = runpy.run_path(str(CONF))
    hooks["on_starting"](server=None)
    assert list((tmp_path / "web").iterdir()) == []  # emptied: counters start again with the process
    assert (tmp_path / "worker" / "counter_2.db").exists()  # another process's, untouched
    (tmp_path / "web" / "gauge_liveall_77.db").write_bytes(b"")
    (tmp_path / "web" / "counter_77.db").write_bytes(b"")
    hooks["child_exit"](server=None, worker=type("Worker", (), {"pid": 77})())
    assert [p.name for p in (tmp_path / "web").iterdir()] == ["counter_77.db"]  # its counters still count
