"""No admin page without signing in; Chinese by default, English on request; CSRF on every form."""

from sqlalchemy import func, select

from core.backoffice.audit import AuditEvent
from core.backoffice.users import User
from loanfactory.database import db_session

PASSWORD = "s3cret-pass-word"


def admin_urls(app):
    return sorted({rule.rule for rule in app.url_map.iter_rules()
                   if rule.rule.startswith("/admin") and "GET" in rule.methods and "<" not in rule.rule
                   and "/static" not in rule.rule and rule.endpoint.split(".")[0] != "lf_auth"})


def test_every_admin_page_sends_a_visitor_to_sign_in_the_index_included(app):
    client = app.test_client()
    urls = admin_urls(app)
    assert "/admin/" in urls and len(urls) > 2
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.location.startswith("/admin/login?next="), url


def test_signing_in_lands_on_the_cockpit_in_chinese_and_records_it(app, sign_in):
    client = app.test_client()
    response = sign_in(client, "admin")
    assert response.status_code == 302 and response.location == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200 and "驾驶舱" in page.text
    with app.app_context():
        actions = db_session().scalars(select(AuditEvent.action).where(AuditEvent.actor == "admin")).all()
    assert actions == ["auth.login"]


def test_english_on_request(app, sign_in):
    client = app.test_client()
    sign_in(client, "admin")
    client.get("/admin/lang/en")
    page = client.get("/admin/")
    assert "Cockpit" in page.text and "驾驶舱" not in page.text
    client.get("/admin/lang/zh_CN")
    assert "驾驶舱" in client.get("/admin/").text


def test_a_wrong_password_is_refused_and_recorded(app, sign_in):
    client = app.test_client()
    response = sign_in(client, "admin", "not-the-password")
    assert response.status_code == 200 and "用户名或密码错误" in response.text
    assert client.get("/admin/").status_code == 302
    with app.app_context():
        failed = db_session().scalar(select(func.count()).where(AuditEvent.action == "auth.login_failed"))
    assert failed == 1


def test_sign_in_never_redirects_off_site(app, csrf_token):
    client = app.test_client()
    page = client.get("/admin/login")
    response = client.post("/admin/login?next=//evil.example/x", data={
        "username": "admin", "password": PASSWORD, "csrf_token": csrf_token(page.text)})
    assert response.location == "/admin/"


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(app, login):
    client = login("admin")
    response = client.client.post("/admin/users/create", data={
        "username": "intruder", "password": "long enough pw", "roles": "admin"})
    assert response.status_code == 400
    with app.app_context():
        assert db_session().scalar(select(User).where(User.username == "intruder")) is None


def test_sign_in_itself_needs_the_csrf_token(app):
    response = app.test_client().post("/admin/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 400


def test_signing_out_takes_a_post_and_closes_the_admin(app, login):
    client = login("admin")
    assert client.client.get("/admin/logout").status_code == 405
    assert client.post("/admin/logout").status_code == 302
    assert client.client.get("/admin/").status_code == 302


def test_an_admin_creates_a_user_and_the_audit_log_shows_it(app, sign_in, login):
    client = login("admin")
    client.get("/admin/users/")
    response = client.post("/admin/users/create", data={
        "username": "chen.jing", "display_name": "陈静", "password": "long enough pw", "roles": ["finance"]})
    assert response.status_code == 302
    log = client.get("/admin/audit/?action=user.create")
    assert "chen.jing" in log.text and "finance" in log.text
    assert "argon2" not in log.text
    fresh = app.test_client()
    assert sign_in(fresh, "chen.jing", "long enough pw").status_code == 302


def test_only_the_token_authenticated_api_is_exempt_from_csrf(app):
    client = app.test_client()
    api = client.post("/api/v1/products/CONSUMER_INSTALLMENT/applications", json={})
    assert api.status_code == 401 and b"CSRF" not in api.data
    admin = client.post("/admin/login", data={"username": "admin", "password": PASSWORD})
    assert admin.status_code == 400 and b"CSRF" in admin.data
