"""The admin's tests (extraction/admin/) use the ops fixtures: staff, a profile, one fake
gateway for remote copies."""

from tests.ops.conftest import fake_gateway, profile, staff  # noqa: F401 - fixtures
