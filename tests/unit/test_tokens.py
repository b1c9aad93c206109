"""Access-token decoding refuses everything but a well-formed token of ours (docs/security.md §15, 17)."""
from datetime import timedelta

import jwt
import pytest
from flask import Flask

from webapp.auth.tokens import ALGORITHM, AUDIENCE, ISSUER, decode_access_token, issue_access_token
from webapp.clock import frozen_at, utcnow

KEY = "k" * 48


@pytest.fixture
def context():
    app = Flask(__name__)
    app.config["JWT_SECRET"] = KEY
    with app.app_context():
        yield


def claims(**overrides):
    now = utcnow()
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "1", "iat": now, "exp": now + timedelta(minutes=15),
            "jti": "j", "typ": "access"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def test_issued_token_decodes_with_its_claims(context):
    decoded = decode_access_token(issue_access_token(7, session_id="s1"))
    assert decoded["sub"] == "7" and decoded["sid"] == "s1" and decoded["typ"] == "access"
    assert decoded["exp"] - decoded["iat"] == 15 * 60


@pytest.mark.parametrize("bad", [
    pytest.param(jwt.encode(claims(), None, algorithm="none"), id="alg-none"),
    pytest.param(jwt.encode(claims(), "w" * 48, algorithm=ALGORITHM), id="wrong-key"),
    pytest.param(jwt.encode(claims(exp=None), KEY, algorithm=ALGORITHM), id="no-exp"),
    pytest.param(jwt.encode(claims(jti=None), KEY, algorithm=ALGORITHM), id="no-jti"),
    pytest.param(jwt.encode(claims(aud="someone-else"), KEY, algorithm=ALGORITHM), id="wrong-aud"),
    pytest.param(jwt.encode(claims(iss="evil"), KEY, algorithm=ALGORITHM), id="wrong-iss"),
    pytest.param(jwt.encode(claims(typ="refresh"), KEY, algorithm=ALGORITHM), id="refresh-as-access"),
    pytest.param(jwt.encode(claims(), KEY, algorithm="HS512"), id="other-hmac-alg"),
])
def test_malformed_or_foreign_tokens_are_refused(context, bad):
    with pytest.raises(jwt.InvalidTokenError):
        decode_access_token(bad)


def test_expired_token_is_refused_after_the_leeway(context):
    token = issue_access_token(1)
    with frozen_at(utcnow() + timedelta(minutes=15, seconds=11)):
        with pytest.raises(jwt.ExpiredSignatureError):
            decode_access_token(token)


def test_token_is_valid_until_its_expiry(context):
    token = issue_access_token(1)
    with frozen_at(utcnow() + timedelta(minutes=14, seconds=59)):
        assert decode_access_token(token)["sub"] == "1"
