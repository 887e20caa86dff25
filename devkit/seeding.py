"""Fill a bot database with corrected predictions, as users pressing buttons would: for retraining tests and its benchmark."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from bot.storage import NewPrediction, Storage, utcnow
from model.reading.predictor import Predictor


async def seed_corrections(url: str, predictor: Predictor, samples: Iterable[tuple[bytes, str, int]]) -> None:
    """Each (photo, right label, user id) becomes a stored prediction by ``predictor`` and that user's correction."""
    storage = Storage(url)
    await storage.migrate()
    try:
        for photo, label, user in samples:
            reading = predictor.predict(photo)
            new = NewPrediction(
                user_id=user,
                chat_id=user,
                message_id=1,
                model_version=reading.model_version,
                digits=reading.number,
                details={"confidence": reading.confidence},
                photo=photo,
                photo_sha256=hashlib.sha256(photo).hexdigest(),
                model_inputs=b"",
            )
            prediction_id = await storage.save_prediction(new, utcnow())
            assert prediction_id is not None
            await storage.record_correction(prediction_id, user, label)
    finally:
        await storage.close()
