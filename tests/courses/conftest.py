import pytest

from app.auth.models import Role


@pytest.fixture
def hr(make):
    return make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)


@pytest.fixture
def staff_user(make):
    """An employee with a login: acts for themself only."""
    return make.user("erika@stadt.example")
