"""Requirements (Pflichtschulungen): who must hold which training by when, and exemptions."""

from flask import Blueprint

bp = Blueprint("requirements", __name__, template_folder="templates")
