"""per-user memory of corrected shapes; which answers came from it

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "memories",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("prediction_id", sa.BigInteger(), sa.ForeignKey("predictions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("model_version", sa.String(32), nullable=False),
        sa.Column("label", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("pixels", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_memories_user", "memories", ["user_id", "model_version", "id"])
    op.create_index("ix_memories_prediction", "memories", ["prediction_id"])
    with op.batch_alter_table("predictions") as batch:
        batch.add_column(sa.Column("recalled", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("predictions") as batch:
        batch.drop_column("recalled")
    op.drop_table("memories")
