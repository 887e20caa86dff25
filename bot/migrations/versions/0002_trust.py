"""rate limits, the durable inbox of updates, /forget marks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
    )
    op.create_table(
        "inbox",
        sa.Column("update_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
    )
    op.create_table(
        "forget_marks",
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("before", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_predictions_message", "predictions", ["chat_id", "message_id"])


def downgrade() -> None:
    op.drop_index("ix_predictions_message", "predictions")
    op.drop_table("forget_marks")
    op.drop_table("inbox")
    op.drop_table("rate_limits")
