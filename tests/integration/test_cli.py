"""`flask users create-admin`."""
from sqlalchemy import func, select

from webapp.auth.passwords import verify_password
from webapp.users.models import User


def admins(db) -> list[User]:
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.role == "admin")).all()


def test_create_admin_uses_the_password_from_the_environment(app, db, monkeypatch):
    monkeypatch.setenv("FLOWDECK_ADMIN_PASSWORD", "an admin passphrase")
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "--email", "Root@Example.COM"])
    assert result.exit_code == 0, result.output
    [admin] = admins(db)
    assert admin.email == "root@example.com" and admin.status == "active"
    assert admin.password_hash.startswith("$2b$")
    assert verify_password("an admin passphrase", admin.password_hash)
    assert "an admin passphrase" not in result.output


def test_create_admin_generates_and_prints_a_password_once(app, db, monkeypatch):
    monkeypatch.delenv("FLOWDECK_ADMIN_PASSWORD", raising=False)
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "--email", "root@example.com"])
    password = result.output.split("Generated password (shown once): ")[1].strip()
    assert verify_password(password, admins(db)[0].password_hash)


def test_create_admin_twice_creates_one_admin(app, db, monkeypatch):
    monkeypatch.setenv("FLOWDECK_ADMIN_PASSWORD", "an admin passphrase")
    runner = app.test_cli_runner()
    runner.invoke(args=["users", "create-admin", "--email", "root@example.com"])
    second = runner.invoke(args=["users", "create-admin", "--email", "ROOT@example.com"])
    assert second.exit_code == 0 and "already exists" in second.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
