"""The product factory: versions and their status, the generated editor, review, publication, lifecycle.

A product manager edits a draft in the form generated from the product JSON Schema
(:mod:`admin.schema_form`) or, in expert mode, as JSON text; both are validated by the same kernel check
(:func:`core.products.check_product`) and every problem is shown at the field its pointer names. The live
preview (:mod:`admin.preview`) prices the default loan and runs the APR cap proof as the form changes.
Submitting sends the draft for review; a second user (never the submitter: the kernel refuses it) sees
the field-level differences from the published version and the live loans on each version, then
publishes or returns it. Published versions can be paused, resumed, retired, or cloned into a new draft.
Every change is audited.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session

from admin import editor_sections, schema_form
from admin.base import SecureView
from admin.labels import code_label
from admin.preview import cap_drivers, preview, problems_by_pointer
from core.backoffice.users import Role, can
from core.errors import LoanFactoryError
from core.finance.charts import chart_in_force
from core.products import product_schema
from core.products.changes import Change, diff_documents, impact
from core.products.models import ProductVersion
from core.products.problems import Problem, load_json
from core.products.validate import InvalidProductError, check_product
from core.products.versions import (
    clone,
    create_draft,
    list_versions,
    pause,
    publish,
    published_version,
    resume,
    retire,
    return_to_draft,
    submit,
    update_draft,
)
from loanfactory.database import db_session
from loanfactory.plugins_host import get_plugins

SAMPLES = Path(__file__).resolve().parents[2] / "product_configs"
ROLES = tuple(role.value for role in Role)


def plugin_registry() -> dict[str, tuple[str, ...]]:
    """Plugin name -> hooks, for the product check of the plugins a product names."""
    return {info.name: info.hooks for info in get_plugins().listing() if info.enabled}


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


class ProductsView(SecureView):
    permission = "product.view"

    # -- list ----------------------------------------------------------------------------------------
    @expose("/")
    def index(self) -> Any:
        db = db_session()
        versions = list_versions(db)
        impacts = {v.id: impact(db, v) for v in versions}
        samples = {path.stem: _name(load_json(path.read_text(encoding="utf-8")), path.stem)
                   for path in sorted(SAMPLES.glob("*.json"))}
        return self.render("lf/products/list.html", versions=versions, impacts=impacts, samples=samples)

    # -- editor --------------------------------------------------------------------------------------
    @expose("/new", methods=["GET", "POST"])
    def new(self) -> Any:
        self.require("product.edit")
        document: Any = {}
        if request.method == "GET" and request.args.get("sample"):
            path = SAMPLES / f"{Path(request.args['sample']).name}.json"
            if path.is_file():
                document = load_json(path.read_text(encoding="utf-8"))
                document.pop("$schema", None)
        return self._editor(None, document)

    @expose("/<int:version_id>", methods=["GET", "POST"])
    def edit(self, version_id: int) -> Any:
        version = self._version(version_id)
        if request.method == "POST":
            self.require("product.edit")
        return self._editor(version, version.document)

    def _editor(self, version: ProductVersion | None, stored: Any) -> Any:
        mode = request.values.get("_mode", "form")
        document, problems = stored, []
        if request.method == "GET" and version is not None and version.status == "draft":
            problems = _check(document)
        if request.method == "POST":
            document, problems = self._posted_document(mode)
            edit = request.form.get("_edit")
            if edit:
                try:
                    document = schema_form.apply_edit(product_schema(), document, edit)
                except ValueError:
                    abort(400)
            elif _syntax_broken(problems):
                pass
            elif request.form.get("_action") in ("save", "submit"):
                return self._save(version, document, submit_after=request.form["_action"] == "submit")
            else:
                problems = _check(document)
        editable = version is None or (version.status == "draft" and self.can_edit())
        tree = schema_form.build(product_schema(), document, locale=_locale())
        grouped = problems_by_pointer(problems, _locale())
        placed = tree.pointers()
        unplaced = {p: m for p, m in grouped.items() if p not in placed}
        return self.render("lf/products/edit.html", version=version, tree=tree, problems=grouped,
                           unplaced=unplaced, editable=editable, mode=mode, json_text=_pretty(document),
                           fixed=_fixed(version))

    def _posted_document(self, mode: str) -> tuple[Any, list[Problem]]:
        if mode == "json":
            text = request.form.get("document", "")
            try:
                return load_json(text), []
            except ValueError as error:
                return text, [Problem("", "json.syntax", f"不是有效的 JSON：{error}", f"not valid JSON: {error}")]
        return schema_form.parse(product_schema(), request.form), []

    def _save(self, version: ProductVersion | None, document: Any, *, submit_after: bool) -> Any:
        db = db_session()
        actor = current_user.username
        try:
            if version is None:
                version = create_draft(db, document, actor=actor)
                self.audit("product.create_draft", "product_version", version.id, after={"label": version.label})
            else:
                changes = diff_documents(version.document, document)
                update_draft(db, version, document, actor=actor)
                self.audit("product.save_draft", "product_version", version.id,
                           before={c.pointer: c.before for c in changes}, after={c.pointer: c.after for c in changes})
            if submit_after:
                submit(db, version, actor=actor, roles=ROLES, plugins=plugin_registry(), chart=chart_in_force(db))
                self.audit("product.submit", "product_version", version.id, before={"status": "draft"},
                           after={"status": version.status})
            db.commit()
        except InvalidProductError as error:
            db.rollback()
            return self._show_problems(version, document, error.problems)
        except LoanFactoryError as error:
            db.rollback()
            return self._show_problems(version, document, [_refusal(error, version)])
        flash(_("Sent for review.") if submit_after else _("Draft saved."), "success")
        return redirect(url_for(".edit", version_id=version.id))

    def _show_problems(self, version: ProductVersion | None, document: Any, problems: list[Problem]) -> Any:
        if version is not None and version.id is not None:
            version = db_session().get(ProductVersion, version.id)
        else:
            version = None
        flash(_("%(count)d problem(s) to fix.", count=len(problems)), "error")
        tree = schema_form.build(product_schema(), document, locale=_locale())
        grouped = problems_by_pointer(problems, _locale())
        unplaced = {p: m for p, m in grouped.items() if p not in tree.pointers()}
        return self.render("lf/products/edit.html", version=version, tree=tree, problems=grouped, unplaced=unplaced,
                           editable=True, mode=request.values.get("_mode", "form"), json_text=_pretty(document),
                           fixed=_fixed(version))

    @expose("/section", methods=["POST"])
    def section_fragment(self) -> Any:
        """One section of the editor re-rendered after adding or removing a list item (nothing is stored):
        the editor swaps it in place, without reloading the page."""
        self.require("product.edit")
        document, _problems = self._posted_document("form")
        try:
            document = schema_form.apply_edit(product_schema(), document, request.form.get("_edit", ""))
        except ValueError:
            abort(400)
        tree = schema_form.build(product_schema(), document, locale=_locale())
        groups = editor_sections.sections(tree)
        wanted = request.form.get("_section", "")
        found = [(number, section, nodes) for number, (section, nodes) in enumerate(groups, 1) if section.key == wanted]
        if not found:
            abort(400)
        number, section, nodes = found[0]
        return self.render("lf/products/section.html", fragment=(section, nodes, number), problems={},
                           editable=True, fixed=())

    @expose("/preview", methods=["POST"])
    def live_preview(self) -> Any:
        document, problems = self._posted_document(request.form.get("_mode", "form"))
        if problems:
            return jsonify({"ok": False, "problems": [{"pointer": p.pointer, "message": p.message_zh
                                                       if _locale().startswith("zh") else p.message_en}
                                                      for p in problems], "schedule": None, "proof": None})
        return jsonify(_jsonable(preview(document, locale=_locale(), plugins=plugin_registry())))

    # -- review and lifecycle --------------------------------------------------------------------------
    @expose("/<int:version_id>/review")
    def review(self, version_id: int) -> Any:
        db = db_session()
        version = self._version(version_id)
        live = published_version(db, version.code)
        baseline = live if live is not None and live.id != version.id else None
        changes = [_readable(change) for change in
                   diff_documents(baseline.document if baseline else {}, version.document)]
        siblings = list_versions(db, version.code)
        return self.render("lf/products/review.html", version=version, baseline=baseline, changes=changes,
                           siblings=siblings, impacts={v.id: impact(db, v) for v in siblings})

    def _lifecycle(self, version_id: int, permission: str, action: str,
                   run: Callable[[Session, ProductVersion, str], Any]) -> Any:
        self.require(permission)
        db = db_session()
        version = self._version(version_id)
        before = {"status": version.status}
        reason = (request.form.get("reason") or "").strip()
        try:
            result = run(db, version, reason)
            target = result if isinstance(result, ProductVersion) and action == "product.clone" else version
            self.audit(action, "product_version", version.id, before=before,
                       after={"status": version.status, "label": target.label}, comment=reason)
            db.commit()
            flash(_("%(label)s: %(status)s.", label=target.label, status=code_label(target.status)), "success")
        except LoanFactoryError as error:
            self.refuse(error)
            return redirect(url_for(".review", version_id=version_id))
        if action == "product.clone":
            return redirect(url_for(".edit", version_id=target.id))
        return redirect(url_for(".review", version_id=version_id))

    @expose("/<int:version_id>/publish", methods=["POST"])
    def publish_version(self, version_id: int) -> Any:
        return self._lifecycle(version_id, "product.publish", "product.publish", lambda db, v, _r: publish(
            db, v, actor=current_user.username, roles=ROLES, plugins=plugin_registry(), chart=chart_in_force(db)))

    @expose("/<int:version_id>/return", methods=["POST"])
    def return_version(self, version_id: int) -> Any:
        return self._lifecycle(version_id, "product.publish", "product.return", lambda db, v, r: return_to_draft(
            db, v, actor=current_user.username, reason=r or "returned"))

    @expose("/<int:version_id>/pause", methods=["POST"])
    def pause_version(self, version_id: int) -> Any:
        return self._lifecycle(version_id, "product.lifecycle", "product.pause", lambda db, v, r: pause(
            db, v, actor=current_user.username, reason=r or "paused"))

    @expose("/<int:version_id>/resume", methods=["POST"])
    def resume_version(self, version_id: int) -> Any:
        return self._lifecycle(version_id, "product.lifecycle", "product.resume", lambda db, v, _r: resume(
            db, v, actor=current_user.username))

    @expose("/<int:version_id>/retire", methods=["POST"])
    def retire_version(self, version_id: int) -> Any:
        return self._lifecycle(version_id, "product.lifecycle", "product.retire", lambda db, v, r: retire(
            db, v, actor=current_user.username, reason=r or "retired"))

    @expose("/<int:version_id>/clone", methods=["POST"])
    def clone_version(self, version_id: int) -> Any:
        return self._lifecycle(version_id, "product.edit", "product.clone", lambda db, v, _r: clone(
            db, v, actor=current_user.username))

    # -- helpers -------------------------------------------------------------------------------------
    def _version(self, version_id: int) -> ProductVersion:
        version = db_session().get(ProductVersion, version_id)
        if version is None:
            abort(404)
        return version

    @staticmethod
    def can_edit() -> bool:
        return can(current_user, "product.edit")


def _check(document: Any) -> list[Problem]:
    """Every problem of ``document``, its GL codes checked against the chart in force, and the fields whose
    range drives a failed cap proof."""
    report = check_product(document, roles=ROLES, plugins=plugin_registry(), chart=chart_in_force(db_session()))
    return [*report.problems, *cap_drivers(document, report.proof)]


def _readable(change: Change) -> dict[str, Any]:
    """A change as the review shows it: the field's titles and the values in words, in the user's language."""
    schema, locale = product_schema(), _locale()
    return {"pointer": change.pointer, "kind": change.kind,
            "label": schema_form.field_label(schema, change.pointer, locale=locale),
            "before": "" if change.kind == "added" else schema_form.describe(
                schema, change.pointer, change.before, code_label, locale=locale),
            "after": "" if change.kind == "removed" else schema_form.describe(
                schema, change.pointer, change.after, code_label, locale=locale)}


def _fixed(version: ProductVersion | None) -> tuple[str, ...]:
    """The fields a version may not change: every version of a product (a clone too) keeps its code."""
    return () if version is None else ("/code",)


def _refusal(error: LoanFactoryError, version: ProductVersion | None) -> Problem:
    """The kernel's refusal of a save as a problem at its field, in both languages where the admin knows it."""
    field = f"/{error.field}" if error.field in product_schema()["properties"] else ""
    if field == "/code" and version is not None:
        with force_locale("zh_CN"):
            zh = _("A new version keeps its product code %(code)s. To make a different product, start a new "
                   "product.", code=version.code)
        with force_locale("en"):
            en = _("A new version keeps its product code %(code)s. To make a different product, start a new "
                   "product.", code=version.code)
        return Problem(field, "refused", zh, en)
    return Problem(field, "refused", str(error), str(error))


def _name(document: Any, fallback: str) -> str:
    """A product document's name in the user's language."""
    name = document.get("name") if isinstance(document, dict) else None
    if not isinstance(name, dict):
        return fallback
    return str(name.get("zh" if _locale().startswith("zh") else "en") or fallback)


def _syntax_broken(problems: list[Problem]) -> bool:
    return any(p.code == "json.syntax" for p in problems)


def _pretty(document: Any) -> str:
    if isinstance(document, str):
        return document
    return json.dumps(document, ensure_ascii=False, indent=2, default=str)
