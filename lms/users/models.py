from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import Timestamps, UUIDPrimaryKey
from lms.core.permissions import Role
from lms.core.extensions import db

ROLES = ("admin", "instructor", "student")


class User(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'instructor', 'student')", name="role"),)

    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), index=True, default="student")
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    mfa_enabled: Mapped[bool] = mapped_column(default=False)
    email_verified_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # Access and refresh tokens issued before this instant are void (reset, deactivation, §5.7).
    tokens_valid_after: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    # Set when the account's personal data was erased (the row stays, anonymised, for the records
    # that point at it: enrollments, grades, certificates).
    erased_at: Mapped[datetime | None]

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    @property
    def is_instructor(self) -> bool:
        return self.role == Role.INSTRUCTOR.value

    @property
    def is_student(self) -> bool:
        return self.role == Role.STUDENT.value

    def __repr__(self) -> str:
        return f"<User {self.email} ({self.role})>"
