"""Each kept update names the replica handling it; replicas keep a heartbeat

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox") as inbox:
        inbox.add_column(sa.Column("owner", sa.String(32), nullable=True))
    op.create_table(
        "replicas",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("replicas")
    with op.batch_alter_table("inbox") as inbox:
        inbox.drop_column("owner")
