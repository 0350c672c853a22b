"""Reports: coverage of mandatory training per department (built in the coverage issue)."""

from flask import Blueprint

bp = Blueprint("reports", __name__, template_folder="templates")
