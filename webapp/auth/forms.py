from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from webapp.auth.passwords import password_problem


def no_nul(form, field) -> None:
    """PostgreSQL text columns refuse NUL characters; say so instead of failing with a 500."""
    if "\x00" in (field.data or ""):
        raise ValidationError("This field must not contain NUL characters.")


def acceptable_password(form, field) -> None:
    problem = password_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class RegisterForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=200), no_nul])
    email = EmailField("Email", validators=[DataRequired(), Length(min=3, max=320), no_nul])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024), acceptable_password])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=1024)])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=1024), acceptable_password])
