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
from lms.core.idempotency import idempotent
from lms.core.auth import bearer_token
from lms.core.http import client_ip
from lms.core.permissions import bearer_required, current_user, login_required
from lms.core.ratelimit import auth_rate_limit
from lms.core.schemas import MessageSchema
from lms.users.schemas import UserSchema

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Authentication and sessions")


@blp.route("/register")
class Register(MethodView):
    @idempotent
    @blp.doc(operationId="register")
    @blp.arguments(RegisterSchema)
    @blp.response(201, AuthResponseSchema)
    @blp.answers(403, 409)
    def post(self, data):
        """Create a student account (instructors too when public role registration is allowed).

        Answers the new user and a token pair at once, even when the deployment requires a verified e-mail
        (those tokens answer 401 "Email is not verified" until the mailed link is confirmed). A welcome and a
        verification mail are sent. 403 for the role `admin`, or `instructor` where public instructor sign-up
        is off; 409 when the e-mail (compared case-insensitively, after NFKC normalisation) is registered.
        """
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
        """Log in with e-mail and password.

        Answers the user and a token pair, or, for an account with MFA, a challenge (`mfa_required: true`)
        whose code is mailed: finish with `POST /auth/login/mfa`. 401 for a wrong e-mail or password (the same
        answer whether or not the e-mail exists), a disabled account, an unverified e-mail where verification
        is required, or a lockout after repeated failures from one client. Rate rule: auth.
        """
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
        """OAuth2 password grant (the "Authorize" dialog of /docs): `username` is the e-mail.

        The same check as `POST /auth/login`, as an `application/x-www-form-urlencoded` form, answering the
        bare token pair (never enveloped): this is the "Authorize" dialog of `/docs`. 400 for an account with
        MFA (use `/auth/login`, then `/auth/login/mfa`); 401 as for `/auth/login`. Rate rule: auth.
        """
        return service.login_for_token(form["username"], form["password"], client_ip())


@blp.route("/login/mfa")
class LoginMfa(MethodView):
    @blp.doc(operationId="logInWithMfaCode")
    @auth_rate_limit
    @blp.arguments(MfaLoginSchema)
    @blp.response(200, AuthResponseSchema)
    @blp.answers(401, 429, 503)
    def post(self, data):
        """Finish an MFA login with the challenge token and the mailed code.

        Send the `challenge_token` from `POST /auth/login` and the code mailed with it. 401 when the challenge
        is expired, void (after 5 wrong codes, or when a newer login challenge was issued) or the code is
        wrong; every wrong code counts toward the lockout. Rate rule: auth.
        """
        return service.login_with_mfa_code(data["challenge_token"], data["code"], client_ip())


@blp.route("/refresh")
class Refresh(MethodView):
    @blp.doc(operationId="refreshTokens")
    @blp.arguments(RefreshSchema)
    @blp.response(200, AuthResponseSchema)
    @blp.answers(401, 503)
    @blp.doc(security=OPTIONAL_BEARER_SECURITY)
    def post(self, data):
        """Exchange a refresh token for a new pair; an access token sent as bearer is revoked.

        Rotates the refresh token: the one sent is spent, and presenting it again revokes every token of that
        login (401). An access token sent as `Authorization: Bearer` is revoked with it, and must belong to
        the same session (401 "Access token does not match refresh token" otherwise). 503 when the revocation
        store is down and a bearer token had to be revoked.
        """
        return service.refresh(data["refresh_token"], bearer_token())


@blp.route("/logout")
class Logout(MethodView):
    @blp.doc(operationId="logOut")
    @blp.arguments(RefreshSchema)
    @blp.response(204)
    @blp.answers(401, 503)
    @bearer_required
    def post(self, data):
        """End this session: revoke the bearer access token and the refresh token.

        Revokes the bearer access token and the refresh token sent in the body; both answer 401 afterwards.
        401 without a bearer token, or when the refresh token is invalid or another user's. 503 when the
        revocation store is down (nothing is revoked then).
        """
        service.logout(data["refresh_token"], bearer_token())


@blp.route("/forgot-password")
class ForgotPassword(MethodView):
    @blp.doc(operationId="requestPasswordReset")
    @blp.arguments(EmailSchema)
    @blp.response(200, MessageSchema)
    def post(self, data):
        """Mail a password-reset link (the same answer whether or not the address is registered).

        Always 200 with the same message, so that the answer does not reveal whether an account exists; a link
        with a single-use token is mailed to active accounts only. A newer link voids older ones.
        """
        return {"message": service.request_password_reset(data["email"])}


@blp.route("/reset-password")
class ResetPassword(MethodView):
    @blp.doc(operationId="resetPassword")
    @blp.arguments(ResetPasswordSchema)
    @blp.response(200, MessageSchema)
    @blp.answers(401)
    def post(self, data):
        """Set a new password with a mailed reset token; ends every session of the account.

        The token comes from the mailed link; it is single use and void once a newer one is issued or the
        password changes. Every refresh token and every access token issued before the reset is revoked. 401
        for a bad, used or expired token or an inactive user; 422 for a password under 8 characters or over 72
        bytes of UTF-8.
        """
        return {"message": service.reset_password(data["token"], data["new_password"])}


@blp.route("/verify-email/request")
class VerifyEmailRequest(MethodView):
    @blp.doc(operationId="requestEmailVerification")
    @blp.arguments(EmailSchema)
    @blp.response(200, MessageSchema)
    def post(self, data):
        """Mail an e-mail verification link (the same answer whether or not the address is registered).

        Always 200 with the same message, whether or not the address is registered; a link is mailed to any
        active account, verified or not.
        """
        return {"message": service.request_email_verification(data["email"])}


@blp.route("/verify-email/confirm")
class VerifyEmailConfirm(MethodView):
    @blp.doc(operationId="confirmEmailVerification")
    @blp.arguments(TokenSchema)
    @blp.response(200, MessageSchema)
    @blp.answers(401)
    def post(self, data):
        """Confirm the e-mail address with a mailed verification token.

        Idempotent: confirming again with the same token answers 200. 401 for a bad or expired token or an
        inactive user; 404 when the account no longer exists.
        """
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
        """Start turning on MFA: checks the password (counted like a login) and mails a setup code.

        Checks the current password (a wrong one is 401 and counts toward the lockout) and mails a setup code
        to confirm with `POST /auth/mfa/enable/confirm`. When MFA is already on, answers the same 200 without
        mailing. 503 when the code store is down. Rate rule: auth.
        """
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
        """Turn on MFA with the mailed setup code (a wrong code counts like a failed login).

        Turns MFA on with the code mailed by `POST /auth/mfa/enable/request`. 401 for a wrong or expired code;
        after 5 wrong codes the setup is void and must be requested again. Rate rule: auth.
        """
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
        """Turn off MFA (the password is required, and counted like a login).

        Checks the current password (a wrong one is 401 and counts toward the lockout). A no-op answering 200
        when MFA is already off. Rate rule: auth.
        """
        return {"message": service.disable_mfa(current_user(), data["password"], client_ip())}


@blp.route("/me")
class Me(MethodView):
    @blp.doc(operationId="getCurrentUser")
    @blp.response(200, UserSchema)
    @login_required
    def get(self):
        """The authenticated user.

        The account the bearer token belongs to, as `GET /users/me` answers it. 401 for a missing, expired or
        revoked token, or a deactivated account.
        """
        return current_user()
