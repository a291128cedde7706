"""Every string the admin shows has a Chinese translation, and the catalogue compiles."""

import os

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import admin
from admin.i18n import SOURCE_DIR, compile_catalogues

KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")]


def admin_msgids() -> set[str]:
    root = os.path.dirname(admin.__file__)
    found = extract_from_dir(root, METHODS, keywords=KEYWORDS, options_map={"**/templates/**.html": {}})
    return {message if isinstance(message, str) else message[0] for _file, _line, message, _c, _ctx in found}


def zh_catalogue():
    with open(os.path.join(SOURCE_DIR, "zh_Hans_CN", "LC_MESSAGES", "messages.po"), "rb") as po:
        return read_po(po)


def test_every_admin_string_has_a_chinese_translation():
    catalogue = zh_catalogue()
    missing = sorted(m for m in admin_msgids() if not (catalogue.get(m) and catalogue.get(m).string))
    assert missing == []


def test_catalogue_compiles_once_and_is_reused(tmp_path):
    compile_catalogues(str(tmp_path))
    mo = tmp_path / "zh_Hans_CN" / "LC_MESSAGES" / "messages.mo"
    first = mo.stat().st_mtime_ns
    compile_catalogues(str(tmp_path))
    assert mo.stat().st_mtime_ns == first
