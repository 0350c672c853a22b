"""Imports from the HR system's exports: departments, staff and past completions."""

from flask import Blueprint

bp = Blueprint("imports", __name__, template_folder="templates")
