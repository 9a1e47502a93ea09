"""`flask midtrans ...`: operator commands around Midtrans."""
import click
from flask.cli import AppGroup

midtrans_cli = AppGroup("midtrans", help="Midtrans tools: trigger, sign, reconcile, replay.")
