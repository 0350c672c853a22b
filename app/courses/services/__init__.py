"""Business rules of the courses area, one module per concern:

- ``catalogue``: courses and sessions (create, edit, archive, cancel)
- ``enrolment``: enrol, cancel, waiting list, bulk booking, moving people
- ``attendance``: attendance after a session, and the completions it creates
- ``calendar``: iCalendar files for sessions
- ``feeds``: a person's private calendar subscription of their booked dates
- ``queries``: read-only views of the catalogue and of a person's trainings
- ``seats``: the nightly check that the seat counters match the bookings
"""
