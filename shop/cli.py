"""`flask shop ...`: operator commands that span the shop's features."""
import click
from flask.cli import AppGroup

shop_cli = AppGroup("shop", help="Shop operations: seed-demo, place-order, show-order.")
