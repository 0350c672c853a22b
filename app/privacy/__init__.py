"""Privacy: the audit log, the access log and the staff council's summary (issue 15); also the
retention of personal data and a person's own data (*Meine Daten*)."""

from flask import Blueprint

bp = Blueprint("privacy", __name__, template_folder="templates")
