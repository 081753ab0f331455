"""catalog search trigram indexes

Catalog search is `title ILIKE '%term%' OR description ILIKE '%term%'`, which no B-tree can serve:
on PostgreSQL each column gets a GIN index with pg_trgm's `gin_trgm_ops`, so a search reads a few
index pages instead of the whole courses table. SQLite ignores the PostgreSQL options and builds
plain indexes, as `create_all` does from the model (see `Course.__table_args__`).

Downgrade drops the indexes and leaves the pg_trgm extension installed: it may predate this
revision or serve other objects.

Revision ID: 046435b40938
Revises: d9082ffc6a8e
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '046435b40938'
down_revision = 'd9082ffc6a8e'
branch_labels = None
depends_on = None

TRIGRAM_INDEXES = {'ix_courses_title_trgm': 'title', 'ix_courses_description_trgm': 'description'}


def upgrade():
    if op.get_context().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    with op.batch_alter_table('courses', schema=None) as batch_op:
        for name, column in TRIGRAM_INDEXES.items():
            batch_op.create_index(name, [column], unique=False, postgresql_using='gin',
                                  postgresql_ops={column: 'gin_trgm_ops'})


def downgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        for name in TRIGRAM_INDEXES:
            batch_op.drop_index(name)
