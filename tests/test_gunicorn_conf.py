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
