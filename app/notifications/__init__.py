"""Notifications: turning outbox rows into e-mails (with calendar invites) and delivering them."""

from flask import Blueprint

bp = Blueprint("notifications", __name__, template_folder="templates")
