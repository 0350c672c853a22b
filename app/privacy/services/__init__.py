"""The rules behind the privacy pages."""
