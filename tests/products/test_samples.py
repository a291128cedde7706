"""Every shipped sample product passes the whole validation, proof included."""

from __future__ import annotations

import pytest

from core.products import check_product
from tests.products.helpers import REGISTRY, SAMPLES, sample


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_product_is_sound_and_proven_under_its_cap(name):
    report = check_product(sample(name), plugins=REGISTRY)
    assert report.problems == []
    assert report.proof is not None and report.proof.passed
    assert report.proof.worst.bound <= report.proof.cap
