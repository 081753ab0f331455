"""gradebook weights and late policies

Quizzes and assignments get a `weight` in the gradebook's weighted total (1 each by default, so
that existing courses weigh everything equally). Assignments get a late policy (percent per day,
a cap, a hard cut-off); submissions keep the days late and the penalty applied when they came in.

Revision ID: i14_a_gradebook
Revises: i13_webhooks_outbox
Create Date: 2026-12-06 03:10:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'i14_a_gradebook'
down_revision = 'i13_webhooks_outbox'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quizzes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weight', sa.Numeric(precision=6, scale=2), server_default='1', nullable=False))
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weight', sa.Numeric(precision=6, scale=2), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('late_penalty_percent_per_day', sa.Numeric(precision=5, scale=2), nullable=True))
        batch_op.add_column(sa.Column('late_penalty_max_percent', sa.Numeric(precision=5, scale=2), nullable=True))
        batch_op.add_column(sa.Column('late_cutoff_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('days_late', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('late_penalty_percent', sa.Numeric(precision=5, scale=2), server_default='0',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('late_penalty_percent')
        batch_op.drop_column('days_late')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_column('late_cutoff_at')
        batch_op.drop_column('late_penalty_max_percent')
        batch_op.drop_column('late_penalty_percent_per_day')
        batch_op.drop_column('weight')
    with op.batch_alter_table('quizzes', schema=None) as batch_op:
        batch_op.drop_column('weight')
