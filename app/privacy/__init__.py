"""Privacy: the data subject's rights (Meine Daten), retention, and the records the staff
council and the data-protection officer rely on."""

from flask import Blueprint

bp = Blueprint("privacy", __name__, template_folder="templates")
