"""Telegram's send budget shared by every replica: the next free slot per budget

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_slots",
        sa.Column("budget", sa.String(64), primary_key=True),
        sa.Column("due", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("send_slots")
