"""`/auth`: registration, login, token refresh and logout, password reset, e-mail verification, MFA."""

from __future__ import annotations

from flask.views import MethodView

from lms.auth import service
from lms.auth.schemas import (
    AuthResponseSchema,
    EmailSchema,
    LoginSchema,
    MfaChallengeSchema,
    MfaCodeSchema,
    MfaLoginSchema,
    PasswordConfirmationSchema,
    RefreshSchema,
    RegisterSchema,
    ResetPasswordSchema,
    TokenFormSchema,
    TokenSchema,
    TokensSchema,
)
from lms.core.api import OPTIONAL_BEARER_SECURITY, Blueprint
from lms.core.auth import bearer_token
from lms.core.http import client_ip
from lms.core.permissions import bearer_required, current_user, login_required
from lms.core.ratelimit import auth_rate_limit
from lms.core.schemas import MessageSchema
from lms.users.schemas import UserSchema

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Authentication and sessions")


@blp.route("/register")
class Register(MethodView):
    @blp.doc(operationId="register")
    @blp.arguments(RegisterSchema)
    @blp.response(201, AuthResponseSchema)
    @blp.answers(403, 409)
    def post(self, data):
        """Create a student account (instructors too when public role registration is allowed)."""
        return service.register(data)


@blp.route("/login")
class Login(MethodView):
    @blp.doc(operationId="logIn")
    @auth_rate_limit
    @blp.arguments(LoginSchema)
    @blp.response(200, description="AuthResponse, or an MFA challenge for accounts with MFA")
    @blp.doc(responses={"200": {"description": "AuthResponse, or an MFA challenge", "content": {"application/json": {
        "schema": {"oneOf": [AuthResponseSchema, MfaChallengeSchema]}}}}})
    @blp.answers(401, 429)
    def post(self, credentials):
        """Log in with e-mail and password."""
        result = service.login(credentials["email"], credentials["password"], client_ip())
        if result.get("mfa_required"):
            return MfaChallengeSchema().dump(result)
        return AuthResponseSchema().dump(result)


@blp.route("/token")
class Token(MethodView):
    @blp.doc(operationId="issueTokenForm")
    @auth_rate_limit
    @blp.arguments(TokenFormSchema, location="form")
    @blp.response(200, TokensSchema)
    @blp.answers(400, 401, 429)
    def post(self, form):
        """OAuth2 password grant (the "Authorize" dialog of /docs): `username` is the e-mail."""
        return service.login_for_token(form["username"], form["password"], client_ip())


@blp.route("/login/mfa")
class LoginMfa(MethodView):
    @blp.doc(operationId="logInWithMfaCode")
    @auth_rate_limit
    @blp.arguments(MfaLoginSchema)
    @blp.response(200, AuthResponseSchema)
    @blp.answers(401, 429, 503)
    def post(self, data):
        """Finish an MFA login with the challenge token and the mailed code."""
        return service.login_with_mfa_code(data["challenge_token"], data["code"], client_ip())


@blp.route("/refresh")
class Refresh(MethodView):
    @blp.doc(operationId="refreshTokens")
    @blp.arguments(RefreshSchema)
    @blp.response(200, AuthResponseSchema)
    @blp.answers(401, 503)
    @blp.doc(security=OPTIONAL_BEARER_SECURITY)
    def post(self, data):
        """Exchange a refresh token for a new pair; an access token sent as bearer is revoked."""
        return service.refresh(data["refresh_token"], bearer_token())


@blp.route("/logout")
class Logout(MethodView):
    @blp.doc(operationId="logOut")
    @blp.arguments(RefreshSchema)
    @blp.response(204)
    @blp.answers(401, 503)
    @bearer_required
    def post(self, data):
        """End this session: revoke the bearer access token and the refresh token."""
        service.logout(data["refresh_token"], bearer_token())


@blp.route("/forgot-password")
class ForgotPassword(MethodView):
    @blp.doc(operationId="requestPasswordReset")
    @blp.arguments(EmailSchema)
    @blp.response(200, MessageSchema)
    def post(self, data):
        """Mail a password-reset link (the same answer whether or not the address is registered)."""
        return {"message": service.request_password_reset(data["email"])}


@blp.route("/reset-password")
class ResetPassword(MethodView):
    @blp.doc(operationId="resetPassword")
    @blp.arguments(ResetPasswordSchema)
    @blp.response(200, MessageSchema)
    @blp.answers(401)
    def post(self, data):
        """Set a new password with a mailed reset token; ends every session of the account."""
        return {"message": service.reset_password(data["token"], data["new_password"])}


@blp.route("/verify-email/request")
class VerifyEmailRequest(MethodView):
    @blp.doc(operationId="requestEmailVerification")
    @blp.arguments(EmailSchema)
    @blp.response(200, MessageSchema)
    def post(self, data):
        """Mail an e-mail verification link (the same answer whether or not the address is registered)."""
        return {"message": service.request_email_verification(data["email"])}


@blp.route("/verify-email/confirm")
class VerifyEmailConfirm(MethodView):
    @blp.doc(operationId="confirmEmailVerification")
    @blp.arguments(TokenSchema)
    @blp.response(200, MessageSchema)
    @blp.answers(401)
    def post(self, data):
        """Confirm the e-mail address with a mailed verification token."""
        return {"message": service.confirm_email(data["token"])}


@blp.route("/mfa/enable/request")
class MfaEnableRequest(MethodView):
    @blp.doc(operationId="requestMfaEnable")
    @auth_rate_limit
    @blp.arguments(PasswordConfirmationSchema)
    @blp.response(200, MessageSchema)
    @blp.answers(429, 503)
    @login_required
    def post(self, data):
        """Start turning on MFA: checks the password (counted like a login) and mails a setup code."""
        return {"message": service.request_mfa_setup(current_user(), data["password"], client_ip())}


@blp.route("/mfa/enable/confirm")
class MfaEnableConfirm(MethodView):
    @blp.doc(operationId="confirmMfaEnable")
    @auth_rate_limit
    @blp.arguments(MfaCodeSchema)
    @blp.response(200, MessageSchema)
    @blp.answers(429, 503)
    @login_required
    def post(self, data):
        """Turn on MFA with the mailed setup code (a wrong code counts like a failed login)."""
        return {"message": service.confirm_mfa_setup(current_user(), data["code"], client_ip())}


@blp.route("/mfa/disable")
class MfaDisable(MethodView):
    @blp.doc(operationId="disableMfa")
    @auth_rate_limit
    @blp.arguments(PasswordConfirmationSchema)
    @blp.response(200, MessageSchema)
    @blp.answers(429)
    @login_required
    def post(self, data):
        """Turn off MFA (the password is required, and counted like a login)."""
        return {"message": service.disable_mfa(current_user(), data["password"], client_ip())}


@blp.route("/me")
class Me(MethodView):
    @blp.doc(operationId="getCurrentUser")
    @blp.response(200, UserSchema)
    @login_required
    def get(self):
        """The authenticated user."""
        return current_user()
