"""The OpenAPI paths and schemas of the customer endpoints (:mod:`api.views.customers`) and the enterprise part
of an application to an enterprise product, kept apart from the product documents' builder: it adds
:data:`CUSTOMER_PATHS` and :data:`CUSTOMER_SCHEMAS` to every document."""

from __future__ import annotations

from typing import Any

from api.openapi_common import DATETIME, MONEY, _id_parameter, _op, json_response, ref
from core.documents.kinds import KINDS

CUSTOMER_ID = _id_parameter("customer_id")
ENTERPRISE_ID = _id_parameter("enterprise_id")
_MASKED = {"type": "string", "description": "Masked: personal data is not read back in clear."}
_NAME = {"type": "string", "minLength": 1, "maxLength": 50}
_PHONE = {"type": "string", "pattern": r"^1[3-9][0-9]{9}$", "description": "Mainland mobile number."}
_ADDRESS = {"type": "string", "minLength": 1, "maxLength": 200}
_RELATION = {"type": "object", "required": ["kind", "customer_id", "contact"], "properties": {
    "kind": {"type": "string", "enum": ["legal_representative", "guarantor", "spouse", "emergency_contact"]},
    "customer_id": {"type": ["integer", "null"]},
    "contact": {"type": ["object", "null"], "properties": {"name": _MASKED, "phone": _MASKED}}}}

PERSON_PROPERTIES: dict[str, Any] = {
    "name": {**_NAME, "description": "Legal name."},
    "id_number": {"type": "string", "pattern": r"^[0-9]{17}[0-9Xx]$",
                  "description": "Resident ID number (居民身份证号), 18 characters with a valid check digit."},
    "phone": _PHONE,
    "monthly_income": ref("MoneyInput"),
    "address": {**_ADDRESS, "description": "Home address."},
}

ENTERPRISE_PROPERTIES: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "maxLength": 100, "description": "Registered name."},
    "credit_code": {"type": "string", "pattern": r"^[0-9]{8}[0-9A-HJ-NP-RTUW-Y]{10}$",
                    "description": "Unified social credit code (统一社会信用代码, GB 32100), both check characters "
                                   "valid."},
    "registered_capital": ref("PositiveMoneyInput"),
    "industry_code": {"type": "string", "pattern": r"^[A-Ta-t]?[0-9]{2,4}$",
                      "description": "GB/T 4754-2017 industry code, such as C1311 (the section letter may be left "
                                     "out)."},
    "registered_address": _ADDRESS,
    "operating_address": _ADDRESS,
    "bank_account": {**ref("BankAccount"), "description": "The corporate account; held by the enterprise."},
}
ENTERPRISE_REQUIRED = ["name", "credit_code", "industry_code", "registered_address", "bank_account"]

CUSTOMER_SCHEMAS: dict[str, Any] = {
    "PersonRequest": {"type": "object", "additionalProperties": False, "required": ["name", "id_number", "phone"],
                      "properties": {**PERSON_PROPERTIES, "emergency_contacts": {
                          "type": "array", "maxItems": 5, "items": {
                              "type": "object", "additionalProperties": False, "required": ["name", "phone"],
                              "properties": {"name": _NAME, "phone": _PHONE}}}}},
    "EnterpriseFile": {"type": "object", "additionalProperties": False, "required": ENTERPRISE_REQUIRED,
                       "properties": ENTERPRISE_PROPERTIES,
                       "description": "The borrowing enterprise; the applicant is its legal representative."},
    "EnterpriseRequest": {"type": "object", "additionalProperties": False,
                          "required": [*ENTERPRISE_REQUIRED, "legal_representative"],
                          "properties": {**ENTERPRISE_PROPERTIES, "legal_representative": {
                              "type": "object", "additionalProperties": False,
                              "required": ["name", "id_number", "phone"], "properties": PERSON_PROPERTIES}}},
    "RelationRequest": {"type": "object", "additionalProperties": False, "required": ["kind"], "properties": {
        "kind": {"type": "string", "enum": ["guarantor", "spouse", "emergency_contact"]},
        "related_customer_id": {"type": "integer", "minimum": 1,
                                "description": "A customer this channel onboarded or who applied through it."},
        "contact": {"type": "object", "additionalProperties": False, "required": ["name", "phone"],
                    "properties": {"name": _NAME, "phone": _PHONE},
                    "description": "An emergency contact who is not a customer."}}},
    "EnterpriseRelationRequest": {
        "type": "object", "additionalProperties": False, "required": ["kind", "related_customer_id"], "properties": {
            "kind": {"type": "string", "enum": ["guarantor"]},
            "related_customer_id": {"type": "integer", "minimum": 1,
                                    "description": "A customer this channel onboarded or who applied through it."}}},
    "Customer": {"type": "object", "required": ["id", "kind", "name", "id_number", "phone", "relations", "links"],
                 "properties": {"id": {"type": "integer"}, "kind": {"const": "individual"}, "name": _MASKED,
                                "id_number": _MASKED, "phone": _MASKED, "region": {"type": ["string", "null"]},
                                "monthly_income": {"anyOf": [MONEY, {"type": "null"}]},
                                "has_address": {"type": "boolean"},
                                "relations": {"type": "array", "items": _RELATION},
                                "created_at": {"anyOf": [DATETIME, {"type": "null"}]},
                                "links": {"type": "object"}}},
    "Enterprise": {"type": "object", "required": ["id", "kind", "name", "credit_code", "legal_representative_id",
                                                  "industry_code", "bank_account", "relations", "links"],
                   "properties": {"id": {"type": "integer"}, "kind": {"const": "enterprise"},
                                  "name": {"type": "string"}, "credit_code": {"type": "string"},
                                  "legal_representative_id": {"type": "integer"},
                                  "registered_capital": {"anyOf": [MONEY, {"type": "null"}]},
                                  "industry_code": {"type": "string"},
                                  "bank_account": {"type": "object", "properties": {
                                      "bank_code": {"type": "string"}, "account_number": _MASKED}},
                                  "relations": {"type": "array", "items": _RELATION},
                                  "created_at": {"anyOf": [DATETIME, {"type": "null"}]},
                                  "links": {"type": "object"}}},
}

CUSTOMER_PATHS: dict[str, Any] = {
    "/customers": {"post": _op(
        "createCustomer", "Onboard an individual (a known ID number is brought up to date: 200)",
        ("201", "Customer", "Onboarded."), body="PersonRequest", idempotent=True, tag="customers")},
    "/customers/{customer_id}": {"get": _op(
        "getCustomer", "An individual this channel onboarded or who applied through it",
        ("200", "Customer", "The customer, masked."), params=[CUSTOMER_ID], tag="customers")},
    "/customers/{customer_id}/relations": {"post": _op(
        "addCustomerRelation", "Record a guarantor, spouse or emergency contact",
        ("201", "Customer", "The customer with the relation."), body="RelationRequest", params=[CUSTOMER_ID],
        idempotent=True, tag="customers")},
    "/enterprises": {"post": _op(
        "createEnterprise", "Onboard an enterprise with its legal representative (a known credit code is brought "
                            "up to date: 200)",
        ("201", "Enterprise", "Onboarded."), body="EnterpriseRequest", idempotent=True, tag="customers")},
    "/enterprises/{enterprise_id}": {"get": _op(
        "getEnterprise", "An enterprise this channel onboarded or that applied through it",
        ("200", "Enterprise", "The enterprise."), params=[ENTERPRISE_ID], tag="customers")},
    "/enterprises/{enterprise_id}/relations": {"post": _op(
        "addEnterpriseRelation", "Record a guarantor of the enterprise",
        ("201", "Enterprise", "The enterprise with the relation."), body="EnterpriseRelationRequest",
        params=[ENTERPRISE_ID],
        idempotent=True, tag="customers")},
}
_DOCUMENT_KINDS = list(KINDS)
CUSTOMER_SCHEMAS["DocumentUpload"] = {
    "type": "object", "required": ["file", "kind"], "properties": {
        "file": {"type": "string", "contentMediaType": "application/octet-stream",
                 "description": "The document; its type is told by its content (JPEG, PNG or PDF as the kind takes)."},
        "kind": {"type": "string", "enum": _DOCUMENT_KINDS},
        "application_id": {"type": "integer", "minimum": 1, "description": "An application of this customer."},
        "loan_id": {"type": "integer", "minimum": 1, "description": "A loan of this customer."}}}
CUSTOMER_SCHEMAS["Document"] = {
    "type": "object", "required": ["id", "kind", "media_type", "size", "sha256", "retention_class"], "properties": {
        "id": {"type": "integer"}, "kind": {"type": "string"}, "media_type": {"type": "string"},
        "size": {"type": "integer"}, "sha256": {"type": "string"}, "retention_class": {"type": "string"},
        "application_id": {"type": ["integer", "null"]}, "loan_id": {"type": ["integer", "null"]},
        "uploaded_at": {"anyOf": [DATETIME, {"type": "null"}]}}}
CUSTOMER_SCHEMAS["DocumentList"] = {"type": "object", "required": ["items"],
                                    "properties": {"items": {"type": "array", "items": ref("Document")}}}
for _path, _parameter, _whose in (("/customers/{customer_id}/documents", CUSTOMER_ID, "an individual"),
                                  ("/enterprises/{enterprise_id}/documents", ENTERPRISE_ID, "an enterprise")):
    _name = "Customer" if _parameter is CUSTOMER_ID else "Enterprise"
    _upload = _op(f"upload{_name}Document", f"Upload a document of {_whose} (multipart/form-data)",
                  ("201", "Document", "Checked and stored."), params=[_parameter], idempotent=True, tag="customers")
    _upload["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": ref("DocumentUpload")}}}
    _upload["responses"]["413"] = {"description": "Larger than DOCUMENTS_MAX_BYTES."}
    CUSTOMER_PATHS[_path] = {"post": _upload, "get": _op(
        f"list{_name}Documents", f"The documents of {_whose}", ("200", "DocumentList", "Newest first."),
        params=[_parameter], tag="customers")}

for _path, _schema in (("/customers", "Customer"), ("/enterprises", "Enterprise")):
    CUSTOMER_PATHS[_path]["post"]["responses"]["200"] = json_response(_schema, "Known already: brought up to date.")


def enterprise_property(customer_type: str) -> dict[str, Any]:
    """The ``enterprise`` property of an application to a product lending to ``customer_type`` (none for
    individuals)."""
    return {"enterprise": ref("EnterpriseFile")} if customer_type == "enterprise" else {}
