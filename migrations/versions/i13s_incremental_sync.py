"""incremental sync

`updated_at` on the objects that lacked it (enrollments, certificates, files, quiz attempts; a
`created_at` on lesson progress), backfilled from the timestamps they had; an index on every
`updated_at` that lists filter with `updated_since` and GET /changes scans; the `tombstones` of
deleted objects.

Revision ID: i13s_incremental_sync
Revises: i14_c_personal_data
Create Date: 2026-12-06 04:02:28.067338

"""
from alembic import op
import sqlalchemy as sa

# The backfill of each new column: the latest timestamp each row already had (PostgreSQL's GREATEST
# and LEAST skip NULLs; SQLite, a development database, takes the first one present).
BACKFILLS = {
    ("enrollments", "updated_at"): ("GREATEST(enrolled_at, started_at, completed_at, last_accessed_at, "
                                    "certificate_issued_at, reviewed_at)",
                                    "COALESCE(last_accessed_at, completed_at, started_at, enrolled_at)"),
    ("certificates", "updated_at"): ("GREATEST(issued_at, revoked_at)", "COALESCE(revoked_at, issued_at)"),
    ("files", "updated_at"): ("created_at", "created_at"),
    ("quiz_attempts", "updated_at"): ("GREATEST(started_at, submitted_at, graded_at)",
                                      "COALESCE(graded_at, submitted_at, started_at)"),
    ("lesson_progress", "created_at"): ("LEAST(started_at, completed_at, updated_at)",
                                        "COALESCE(started_at, updated_at)"),
}


def add_backfilled_column(table: str, column: str) -> None:
    """Added nullable, filled from the row's own timestamps, then made NOT NULL."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    postgresql, other = BACKFILLS[(table, column)]
    source = postgresql if op.get_bind().dialect.name == "postgresql" else other
    op.execute(f"UPDATE {table} SET {column} = {source}")
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column(column, existing_type=sa.DateTime(timezone=True), nullable=False)


# revision identifiers, used by Alembic.
revision = 'i13s_incremental_sync'
down_revision = 'i14_c_personal_data'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tombstones',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.Uuid(), nullable=False),
    sa.Column('course_id', sa.Uuid(), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tombstones'))
    )
    with op.batch_alter_table('tombstones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tombstones_course_id'), ['course_id'], unique=False)
        batch_op.create_index('ix_tombstones_deleted_at', ['deleted_at'], unique=False)

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignments_updated_at'), ['updated_at'], unique=False)

    add_backfilled_column('certificates', 'updated_at')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_updated_at'), ['updated_at'], unique=False)

    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_updated_at'), ['updated_at'], unique=False)

    add_backfilled_column('enrollments', 'updated_at')
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrollments_updated_at'), ['updated_at'], unique=False)

    add_backfilled_column('files', 'updated_at')
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_files_updated_at'), ['updated_at'], unique=False)

    add_backfilled_column('lesson_progress', 'created_at')

    with op.batch_alter_table('lessons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lessons_updated_at'), ['updated_at'], unique=False)

    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_questions_updated_at'), ['updated_at'], unique=False)

    add_backfilled_column('quiz_attempts', 'updated_at')
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_attempts_updated_at'), ['updated_at'], unique=False)

    with op.batch_alter_table('quizzes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quizzes_updated_at'), ['updated_at'], unique=False)

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submissions_updated_at'), ['updated_at'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_updated_at'), ['updated_at'], unique=False)

    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_updated_at'), ['updated_at'], unique=False)

    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_endpoints_updated_at'), ['updated_at'], unique=False)



def downgrade():
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_endpoints_updated_at'))

    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_updated_at'))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_updated_at'))

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submissions_updated_at'))

    with op.batch_alter_table('quizzes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quizzes_updated_at'))

    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_attempts_updated_at'))
        batch_op.drop_column('updated_at')

    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_questions_updated_at'))

    with op.batch_alter_table('lessons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lessons_updated_at'))

    with op.batch_alter_table('lesson_progress', schema=None) as batch_op:
        batch_op.drop_column('created_at')

    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_files_updated_at'))
        batch_op.drop_column('updated_at')

    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrollments_updated_at'))
        batch_op.drop_column('updated_at')

    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_updated_at'))

    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_updated_at'))
        batch_op.drop_column('updated_at')

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignments_updated_at'))

    with op.batch_alter_table('tombstones', schema=None) as batch_op:
        batch_op.drop_index('ix_tombstones_deleted_at')
        batch_op.drop_index(batch_op.f('ix_tombstones_course_id'))

    op.drop_table('tombstones')
