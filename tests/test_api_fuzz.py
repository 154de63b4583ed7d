"""A property-based fuzz of the API from its own OpenAPI schema, against the live server.

Schemathesis generates requests for every operation the schema documents; no answer may be a
server error, and every answer must match what the schema says about its status.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.prediction_rows import finished_prediction

CHECKS = [not_a_server_error, response_schema_conformance]
EXAMPLES_PER_OPERATION = 50


@pytest.fixture
def fuzz_user(django_user_model):
    user = django_user_model.objects.create_user("fuzzer", "fuzzer@example.com", "fuzz-password-123")
    for digits in ("3", "8", "4667", "4?67"):
        finished_prediction(user, digits=digits)
    finished_prediction(user, digits="5", true_digits="6")
    return user


@pytest.fixture
def generous_throttles():
    """The fuzz sends hundreds of requests a minute; the throttles are tested elsewhere."""
    rates = {"anon": "100000/minute", "user": "100000/minute"}
    cache.clear()
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}):
        yield
    cache.clear()


@pytest.fixture
def api_schema(live_server, fuzz_user, generous_throttles):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/?format=json")
    token = Token.objects.create(user=fuzz_user).key
    schema.config.update(base_url=live_server.url, headers={"Authorization": f"Token {token}"})
    return schema


def documented_operations() -> list[tuple[str, str]]:
    """(method, path) of every operation in the schema, known before the server runs (one test each)."""
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return [(method.upper(), path) for path, operations in paths.items() for method in operations]


OPERATIONS = documented_operations()


def fuzz(operation, path_parameters: dict | None = None) -> None:
    """Valid requests (as the schema describes them) and invalid ones (which must be refused, not crash)."""
    generated_path_parameters = [p for p in operation.path_parameters.items if p.name not in (path_parameters or {})]
    # An operation with nothing left to generate (GET health/, or every path parameter fixed) has no invalid form.
    can_be_invalid = bool(generated_path_parameters or operation.query.items or operation.body.items)
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if can_be_invalid else (GenerationMode.POSITIVE,)
    for mode in modes:

        @given(case=operation.as_strategy(mode, path_parameters=path_parameters))
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        def answers_conform(case):
            case.call_and_validate(checks=CHECKS)

        answers_conform()


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_request_breaks_the_api_or_its_schema(api_schema, method, path):
    fuzz(api_schema[path][method])


@pytest.mark.parametrize(("method", "path"), [(method, path) for method, path in OPERATIONS if "{id}" in path])
def test_no_request_about_an_own_prediction_breaks_the_api_or_its_schema(api_schema, fuzz_user, method, path):
    # Generated ids almost never hit a row of the user's; here every request is about one (until a DELETE).
    prediction = fuzz_user.predictions.filter(true_digits="").first()
    fuzz(api_schema[path][method], path_parameters={"id": prediction.pk})
