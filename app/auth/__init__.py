"""Auth: login, logout, password change, and user administration."""

from flask import Blueprint

bp = Blueprint("auth", __name__, template_folder="templates")
