"""Courses: the catalogue, dated sessions, enrolments and completions."""

from flask import Blueprint

bp = Blueprint("courses", __name__, template_folder="templates")
