from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload

from lms.core.pagination import UnpagedQuerySchema
from lms.core.schemas import Integer, UTCDateTime, one_of
from lms.files.models import FILE_TYPES
from lms.files.urls import download_path


class UploadFormSchema(ma.Schema):
    folder = ma.fields.String(load_default="uploads", metadata={
        "description": "Segments of letters, digits, '_' or '-' separated by '/'"})
    is_public = ma.fields.Boolean(load_default=False, metadata={
        "description": "Any logged-in user may download a public file"})


class UploadFileSchema(ma.Schema):
    file = Upload(required=True)


class MyFilesQuerySchema(UnpagedQuerySchema):
    file_type = ma.fields.String(validate=one_of(*FILE_TYPES))


class FileSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    filename = ma.fields.String(required=True, metadata={"description": "Server-generated `<hex>.<ext>`"})
    original_filename = ma.fields.String(required=True)
    file_url = ma.fields.Function(lambda stored: download_path(stored.id), required=True, metadata={
        "type": "string", "description": "The download endpoint, `/api/v1/files/download/{id}`, whatever the storage"})
    file_type = ma.fields.String(required=True, validate=one_of(*FILE_TYPES))
    mime_type = ma.fields.String(required=True)
    file_size = Integer(required=True)
    storage_provider = ma.fields.String(required=True, metadata={"description": "local or s3"})
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True, metadata={"description": "Last change (filter lists with `updated_since`)"})
