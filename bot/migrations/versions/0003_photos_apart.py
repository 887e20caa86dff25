"""photos in their own table, stored once per SHA-256; the correction prompt's message id

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photos",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    op.execute(
        "INSERT INTO photos (sha256, data) SELECT photo_sha256, photo FROM predictions"
        " WHERE id IN (SELECT MIN(id) FROM predictions GROUP BY photo_sha256)"
    )
    with op.batch_alter_table("predictions") as batch:
        batch.drop_column("photo")
        batch.add_column(sa.Column("prompt_message_id", sa.BigInteger(), nullable=True))
    op.create_index("ix_predictions_prompt", "predictions", ["chat_id", "prompt_message_id"])


def downgrade() -> None:
    op.drop_index("ix_predictions_prompt", "predictions")
    with op.batch_alter_table("predictions") as batch:
        batch.drop_column("prompt_message_id")
        batch.add_column(sa.Column("photo", sa.LargeBinary(), nullable=False, server_default=sa.text("''")))
    op.execute("UPDATE predictions SET photo = (SELECT data FROM photos WHERE photos.sha256 = predictions.photo_sha256)")
    op.drop_table("photos")
