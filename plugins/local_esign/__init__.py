"""``local_esign``: contracts rendered to PDF, signed with Ed25519 keys held here, verified on demand.

The e-signature family of hooks (:mod:`core.plugins.hookspecs`): ``esign_render`` lays the contract out from
the product's template and the loan's terms (:mod:`.contract`, :mod:`.render`), ``esign_sign`` adds a
signature and keeps its evidence (:mod:`.signing`), ``esign_verify`` checks the bytes and every
signature. The plugin stands where an outside e-signature vendor would be, but everything is local: the
keys, the documents and the evidence live in this system's database (tables in :mod:`.models`).

Configuration (``PLUGIN_CONFIG["local_esign"]``): ``required_roles`` (default ``["borrower",
"lender"]``), the roles whose signatures ``esign_verify`` demands. See docs/esign.md.

Importing the plugin starts a background thread that makes the contract font's common cut if this
machine has not kept one yet (:func:`.fonts.warm_up`), so the first contract does not pay for it.
"""

from __future__ import annotations

from core.plugins.hookspecs import hookimpl
from core.plugins.types import (
    ContractDocument,
    ContractRequest,
    PluginContext,
    PluginSchema,
    SignedDocument,
    Signer,
    VerificationResult,
)
from plugins.local_esign import signing
from plugins.local_esign.contract import build_contract
from plugins.local_esign.fonts import warm_up
from plugins.local_esign.render import LAYOUT_TEXT, render_pdf

__version__ = "1.0.0"

MEDIA_TYPE = "application/pdf"

warm_up(LAYOUT_TEXT)  # the common font cut, made once per machine in the background (see .fonts)


@hookimpl(trylast=True)
def esign_render(context: PluginContext, request: ContractRequest) -> ContractDocument:
    """Render ``request`` to PDF; the document's SHA-256 is taken over the exact bytes."""
    content = render_pdf(build_contract(request))
    return ContractDocument(contract_id=request.contract_id, content=content, media_type=MEDIA_TYPE,
                            sha256=signing.sha256_hex(content))


@hookimpl(trylast=True)
def esign_sign(context: PluginContext, document: SignedDocument, signer: Signer, channel: str) -> SignedDocument:
    """Sign as ``signer`` at ``context.now`` with the signer's own key; the evidence is stored."""
    with context.db() as session:
        return signing.sign(session, document, signer, channel, context.now)


@hookimpl(trylast=True)
def esign_verify(context: PluginContext, document: SignedDocument) -> VerificationResult:
    """Check bytes, hashes and signatures; with a session, also that each key belongs to its signer."""
    roles = tuple(context.config.get("required_roles", ("borrower", "lender")))
    if not context.has_session:
        return signing.verify(document, None, roles)
    with context.db() as session:
        return signing.verify(document, session, roles)


@hookimpl(trylast=True)
def plugin_schema() -> PluginSchema:
    """The signed documents and signer keys (``models``), and the revisions that make them (``migrations/``)."""
    return PluginSchema.of_package(__name__)
