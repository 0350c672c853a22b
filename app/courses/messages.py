"""What each domain error of the courses area tells the user, in their language."""

from __future__ import annotations

from flask_babel import gettext as _

from app.courses.services import errors


def explain(error: errors.CourseError) -> str:
    """A sentence for the user; the view shows it as a message or next to a field."""
    if isinstance(error, errors.AlreadyEnrolled):
        return _("This person is already booked or on the waiting list for this date.")
    if isinstance(error, errors.DeadlinePassed):
        return _("The deadline for this has passed. Please contact the training coordination.")
    if isinstance(error, errors.SessionNotBookable):
        reason = str(error)
        if reason == "cancelled":
            return _("This date has been cancelled.")
        if reason == "archived":
            return _("This course is archived and can no longer be booked.")
        return _("This date has already begun or is over.")
    if isinstance(error, errors.EmployeeNotBookable):
        return _("This person is no longer on staff and cannot be booked.")
    if isinstance(error, errors.NotCancellable):
        return _("This enrolment is no longer active.")
    if isinstance(error, errors.AttendanceTooEarly):
        return _("Attendance can be recorded once the date has begun.")
    if isinstance(error, errors.NotAllowed):
        return _("You may not do this for other people.")
    if isinstance(error, errors.InvalidInput):
        return " ".join(str(message) for message in error.errors.values())
    return _("This did not work.")
