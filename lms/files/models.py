from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import UUIDPrimaryKey, utcnow
from lms.core.extensions import db

FILE_TYPES = ("video", "image", "document", "other")


class StoredFile(UUIDPrimaryKey, db.Model):
    __tablename__ = "files"

    uploaded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    original_filename: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(512), unique=True)
    folder: Mapped[str] = mapped_column(String(255), default="uploads")
    file_type: Mapped[str] = mapped_column(String(20), index=True)
    mime_type: Mapped[str] = mapped_column(String(255))
    file_size: Mapped[int]
    storage_provider: Mapped[str] = mapped_column(String(20))
    is_public: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
