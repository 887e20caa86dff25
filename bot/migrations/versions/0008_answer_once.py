"""A prediction's confidence and input count live in its answer alone

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

The answer's JSON (``details``) holds its confidence, and ``model_inputs`` one 28x28 input per
digit; the two columns repeated them. Downgrading writes them back from the same facts.
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INPUT_BYTES = 28 * 28


def upgrade() -> None:
    with op.batch_alter_table("predictions") as predictions:
        predictions.drop_column("confidence")
        predictions.drop_column("input_count")


def downgrade() -> None:
    with op.batch_alter_table("predictions") as predictions:
        predictions.add_column(sa.Column("confidence", sa.Float(), nullable=False, server_default="0"))
        predictions.add_column(sa.Column("input_count", sa.Integer(), nullable=False, server_default="0"))
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, details, model_inputs FROM predictions")).all()
    for row_id, details, inputs in rows:
        answer = json.loads(details) if isinstance(details, str) else details
        connection.execute(
            sa.text("UPDATE predictions SET confidence = :confidence, input_count = :count WHERE id = :id"),
            {"confidence": float((answer or {}).get("confidence", 0.0)), "count": len(inputs or b"") // INPUT_BYTES, "id": row_id},
        )
