"""The contract of customers, enterprises, their relations and documents (:mod:`api.views.customers`,
:mod:`api.views.documents`), and the enterprise part of an application: registered in the API's registry.

The whole document's ``ApplicationRequest`` takes an optional ``enterprise`` (the borrowing enterprise, whose
legal representative is the applicant); an enterprise product's own document requires it, an individual
product's has none (:func:`tailor`).
"""

from __future__ import annotations

from typing import Any

from api.openapi.registry import Operation, Success, register, register_schemas
from api.openapi.schemas import DATETIME, INTEGER, MONEY, STRING, _links, enum, nullable, obj, path_id, ref
from core.documents.kinds import KINDS
from core.origination.catalog import Offer

CUSTOMER_ID = path_id("customer_id", "customer")
ENTERPRISE_ID = path_id("enterprise_id", "enterprise")
TAG = "customers"
_MASKED = {"type": "string", "description": "Masked: personal data is not read back in clear."}
_NAME = {"type": "string", "minLength": 1, "maxLength": 50}
_PHONE = {"type": "string", "pattern": r"^1[3-9][0-9]{9}$", "description": "Mainland mobile number."}
_ADDRESS = {"type": "string", "minLength": 1, "maxLength": 200}
_CONTACT = {**obj({"name": _NAME, "phone": _PHONE}), "additionalProperties": False}
DOCUMENT_KINDS = list(KINDS)

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
RELATION = obj({"kind": enum(["legal_representative", "guarantor", "spouse", "emergency_contact"]),
                "customer_id": nullable(INTEGER),
                "contact": nullable(obj({"name": _MASKED, "phone": _MASKED}))},
               description="A related party: a customer, or a contact who is not one (masked).")

CUSTOMER_SCHEMAS: dict[str, Any] = {
    "PersonRequest": {**obj({**PERSON_PROPERTIES, "emergency_contacts": {
        "type": "array", "maxItems": 5, "items": _CONTACT}}, required=["name", "id_number", "phone"],
        description="An individual to onboard."), "additionalProperties": False},
    "EnterpriseFile": {**obj(ENTERPRISE_PROPERTIES, required=ENTERPRISE_REQUIRED,
                             description="The borrowing enterprise; the applicant is its legal representative."),
                       "additionalProperties": False},
    "EnterpriseRequest": {**obj({**ENTERPRISE_PROPERTIES, "legal_representative": {
        **obj(PERSON_PROPERTIES, required=["name", "id_number", "phone"]), "additionalProperties": False}},
        required=[*ENTERPRISE_REQUIRED, "legal_representative"], description="An enterprise to onboard."),
        "additionalProperties": False},
    "RelationRequest": {**obj({
        "kind": enum(["guarantor", "spouse", "emergency_contact"]),
        "related_customer_id": {"type": "integer", "minimum": 1,
                                "description": "A customer this channel onboarded or who applied through it."},
        "contact": {**_CONTACT, "description": "An emergency contact who is not a customer."}}, required=["kind"]),
        "additionalProperties": False},
    "EnterpriseRelationRequest": {**obj({
        "kind": enum(["guarantor"]),
        "related_customer_id": {"type": "integer", "minimum": 1,
                                "description": "A customer this channel onboarded or who applied through it."}}),
        "additionalProperties": False},
    "Relation": RELATION,
    "Customer": obj({
        "id": INTEGER, "kind": enum(["individual"]), "name": _MASKED, "id_number": _MASKED, "phone": _MASKED,
        "region": nullable(STRING), "monthly_income": nullable(MONEY), "has_address": {"type": "boolean"},
        "relations": {"type": "array", "items": ref("Relation")}, "created_at": nullable(DATETIME),
        "links": _links("self"),
    }, description="An individual customer, masked."),
    "EnterpriseAccount": obj({"bank_code": STRING, "account_number": _MASKED}),
    "Enterprise": obj({
        "id": INTEGER, "kind": enum(["enterprise"]), "name": STRING, "credit_code": STRING,
        "legal_representative_id": INTEGER, "registered_capital": nullable(MONEY), "industry_code": STRING,
        "bank_account": ref("EnterpriseAccount"), "relations": {"type": "array", "items": ref("Relation")},
        "created_at": nullable(DATETIME), "links": _links("self", "legal_representative"),
    }, description="An enterprise customer: the registry facts, the account number masked."),
    "DocumentUpload": obj({
        "file": {"type": "string", "contentMediaType": "application/octet-stream",
                 "description": "The document; its type is told by its content (JPEG, PNG or PDF as the kind takes)."},
        "kind": enum(DOCUMENT_KINDS),
        "application_id": {"type": "integer", "minimum": 1, "description": "An application of this customer."},
        "loan_id": {"type": "integer", "minimum": 1, "description": "A loan of this customer."},
    }, required=["file", "kind"], description="A document upload (multipart/form-data)."),
    "Document": obj({"id": INTEGER, "kind": enum(DOCUMENT_KINDS), "media_type": STRING, "size": INTEGER,
                     "sha256": STRING, "retention_class": STRING, "application_id": nullable(INTEGER),
                     "loan_id": nullable(INTEGER), "uploaded_at": nullable(DATETIME)},
                    description="A stored document, checked by its content."),
    "DocumentList": obj({"items": {"type": "array", "items": ref("Document")}}, description="Newest first."),
}


def tailor(offer: Offer | None, schemas: dict[str, Any]) -> None:
    """Give the application requests in ``schemas`` their ``enterprise``: optional in the whole document,
    required by an enterprise product's, absent from an individual product's."""
    enterprise = offer is not None and offer.product.customer_type == "enterprise"
    for name in ("ApplicationRequest", "CreditLineApplicationRequest"):
        request = schemas.get(name)
        if request is None:
            continue
        if offer is None or enterprise:
            request["properties"]["enterprise"] = ref("EnterpriseFile")
        if enterprise:
            request["required"] = [*request["required"], "enterprise"]


def _onboarding(operation_id: str, path: str, what: str, schema: str, body: str) -> Operation:
    return Operation(operation_id, "post", path, f"Onboard {what}",
                     f"A known one (same {'ID number' if schema == 'Customer' else 'credit code'}) is brought up to "
                     "date and answered 200.", TAG, Success("201", "Onboarded.", schema, headers=("Location",)),
                     problems=("refused",), body=body, idempotent=True,
                     also=(Success("200", "Known already: brought up to date.", schema, headers=("Location",)),))


def _documents(name: str, path: str, parameter: dict[str, Any], whose: str) -> tuple[Operation, Operation]:
    return (Operation(f"upload{name}Document", "post", path, f"Upload a document of {whose}",
                      "multipart/form-data; checked by its content, stored only when everything passes. At most "
                      "DOCUMENTS_MAX_BYTES.", TAG, Success("201", "Checked and stored.", "Document"),
                      parameters=(parameter,), problems=("not-found",), body="DocumentUpload",
                      body_media="multipart/form-data", idempotent=True),
            Operation(f"list{name}Documents", "get", path, f"The documents of {whose}", "Newest first.", TAG,
                      Success("200", "The documents.", "DocumentList"), parameters=(parameter,),
                      problems=("not-found",)))


def register_operations() -> None:
    """Register the customer operations and schemas (once, when the registry is assembled)."""
    register_schemas(CUSTOMER_SCHEMAS, tailor)
    for operation in (
        _onboarding("createCustomer", "/customers", "an individual", "Customer", "PersonRequest"),
        Operation("getCustomer", "get", "/customers/{customer_id}",
                  "An individual this channel onboarded or who applied through it", "Masked.", TAG,
                  Success("200", "The customer, masked.", "Customer"), parameters=(CUSTOMER_ID,),
                  problems=("not-found",)),
        Operation("addCustomerRelation", "post", "/customers/{customer_id}/relations",
                  "Record a guarantor, spouse or emergency contact",
                  "A related customer must be one this channel may see.", TAG,
                  Success("201", "The customer with the relation.", "Customer"), parameters=(CUSTOMER_ID,),
                  problems=("not-found",), body="RelationRequest", idempotent=True),
        _onboarding("createEnterprise", "/enterprises", "an enterprise with its legal representative", "Enterprise",
                    "EnterpriseRequest"),
        Operation("getEnterprise", "get", "/enterprises/{enterprise_id}",
                  "An enterprise this channel onboarded or that applied through it", "The account number masked.",
                  TAG, Success("200", "The enterprise.", "Enterprise"), parameters=(ENTERPRISE_ID,),
                  problems=("not-found",)),
        Operation("addEnterpriseRelation", "post", "/enterprises/{enterprise_id}/relations",
                  "Record a guarantor of the enterprise", "A related customer must be one this channel may see.",
                  TAG, Success("201", "The enterprise with the relation.", "Enterprise"),
                  parameters=(ENTERPRISE_ID,), problems=("not-found",), body="EnterpriseRelationRequest",
                  idempotent=True),
        *_documents("Customer", "/customers/{customer_id}/documents", CUSTOMER_ID, "an individual"),
        *_documents("Enterprise", "/enterprises/{enterprise_id}/documents", ENTERPRISE_ID, "an enterprise"),
    ):
        register(operation)
