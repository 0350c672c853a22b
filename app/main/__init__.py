"""Main: pages every role shares (start page, language switch, system status)."""

from flask import Blueprint

bp = Blueprint("main", __name__, template_folder="templates")
