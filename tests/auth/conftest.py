"""The auth tests' own fixtures: a real OpenLDAP server for the directory login."""

from tests.directory import directory, slapd_server  # noqa: F401
