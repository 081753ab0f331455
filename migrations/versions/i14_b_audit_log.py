"""audit log

The append-only record of security events and administrative changes. On PostgreSQL a trigger
refuses any UPDATE of an entry; only the retention job deletes (old) entries.

Revision ID: i14_b_audit_log
Revises: i14_a_gradebook
Create Date: 2026-12-06 03:30:00.000000

"""
import sqlalchemy as sa
from alembic import op


# As lms/audit/models.py creates it for `create_all`; written out here so that this revision never changes.
REFUSE_UPDATES = """
CREATE OR REPLACE FUNCTION audit_log_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_update();
"""

# revision identifiers, used by Alembic.
revision = 'i14_b_audit_log'
down_revision = 'i14_a_gradebook'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'audit_log',
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.Uuid(), nullable=True),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('target_type', sa.String(length=32), nullable=True),
        sa.Column('target_id', sa.String(length=64), nullable=True),
        sa.Column('client_ip', sa.String(length=64), nullable=True),
        sa.Column('request_id', sa.String(length=64), nullable=True),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_action_occurred_at', ['action', 'occurred_at'], unique=False)
        batch_op.create_index('ix_audit_log_actor_id_occurred_at', ['actor_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_audit_log_occurred_at_id', ['occurred_at', 'id'], unique=False)
        batch_op.create_index('ix_audit_log_target_occurred_at', ['target_type', 'target_id', 'occurred_at'],
                              unique=False)
    if op.get_context().dialect.name == 'postgresql':
        op.execute(REFUSE_UPDATES)


def downgrade():
    if op.get_context().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log')
        op.execute('DROP FUNCTION IF EXISTS audit_log_refuse_update()')
    op.drop_table('audit_log')
