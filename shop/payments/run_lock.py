"""One run at a time for each periodic job (reconciliation, the sweeper), across every host.

On PostgreSQL a run holds a transaction-level advisory lock (`pg_try_advisory_xact_lock`,
shared by every process on every host, released by the run's commit). SQLite is the embedded
single-process shop and needs none.
"""
from sqlalchemy import func, select

from shop.extensions import db

# Advisory lock keys, one per job: any two constant 64-bit numbers no other code uses.
RUN_LOCKS = {"reconcile": 0x5348_4F50_0001, "sweep": 0x5348_4F50_0002, "operations": 0x5348_4F50_0003}


class NoRunLock(RuntimeError):
    """The database has no run lock this shop knows how to take."""


def take_run_lock(job: str) -> bool:
    """Hold `job`'s lock until this transaction ends; False while another run holds it."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        return True  # embedded single process: nothing else runs the job at the same time
    if dialect != "postgresql":
        raise NoRunLock(f"no run lock for {dialect}: run the shop on PostgreSQL (or SQLite when embedded)")
    return bool(db.session.scalar(select(func.pg_try_advisory_xact_lock(RUN_LOCKS[job]))))
