"""per-role participant status

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 01:15:35.124005
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ix_participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_roles', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('revoked_roles', sa.BigInteger(), nullable=False, server_default='0'))



def downgrade() -> None:
    with op.batch_alter_table('ix_participant', schema=None) as batch_op:
        batch_op.drop_column('revoked_roles')
        batch_op.drop_column('suspended_roles')

