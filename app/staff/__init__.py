"""Staff: the department tree and the employees in it."""

from flask import Blueprint

bp = Blueprint("staff", __name__, template_folder="templates")
