"""Helpers of the product tests: the sample products and a plugin registry standing for the manager."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from core.products.references import REQUIRED_HOOKS
from core.products.validate import read_document

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "product_configs"
SAMPLES = sorted(p.name for p in SAMPLES_DIR.glob("*.json"))

#: the built-in plugins, each implementing the hooks of its job
REGISTRY = {
    "scorecard": REQUIRED_HOOKS["scoring"],
    "sandbox_bureau": REQUIRED_HOOKS["credit_bureau"],
    "sandbox_bank": REQUIRED_HOOKS["payment_channel"],
    "local_esign": REQUIRED_HOOKS["esign"],
    "reports": REQUIRED_HOOKS["reports"],
    "notifications": REQUIRED_HOOKS["notifications"],
}


def sample(name: str) -> dict[str, Any]:
    """A fresh copy of the sample ``name`` (file name in product_configs/)."""
    return copy.deepcopy(read_document(SAMPLES_DIR / name))
