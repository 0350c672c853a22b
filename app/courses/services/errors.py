"""Domain errors of the courses area; views turn them into messages or 4xx pages."""

from __future__ import annotations


class CourseError(Exception):
    """Base of the errors below."""


class NotAllowed(CourseError):
    """The actor may not do this for this person (e.g. book someone else)."""


class SessionNotBookable(CourseError):
    """Cancelled, already begun, or its course is archived."""


class EmployeeNotBookable(CourseError):
    """The employee has left or is inactive."""


class AlreadyEnrolled(CourseError):
    """The employee already holds a seat or a waiting-list place in this session."""


class DeadlinePassed(CourseError):
    """The enrolment or cancellation deadline has passed (HR may override it)."""


class NotCancellable(CourseError):
    """The enrolment is not active (already cancelled, attended, …)."""


class AttendanceTooEarly(CourseError):
    """Attendance can only be recorded once the session has begun."""


class InvalidInput(CourseError):
    """Input that breaks a rule; ``errors`` maps a field name to a message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors
