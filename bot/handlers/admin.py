"""The admins' commands (``ADMIN_IDS``): usage and accuracy, and loading the newest model now. Their texts stay English."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext, Services
from bot.replies import texts
from bot.replies.talk import reply


async def _is_admin(update: Update, svc: Services) -> bool:
    user = update.effective_user
    if user is None or user.id not in svc.settings.admin_ids:
        await reply(update, texts.ADMINS_ONLY)
        return False
    return True


async def reload_model(update: Update, context: BotContext) -> None:
    """Admins: load the registry's current model now instead of waiting for the periodic check."""
    svc = context.services
    if await _is_admin(update, svc):
        old = svc.reader.version
        await reply(update, texts.reloaded(old, await svc.reader.reload_if_changed()))


async def stats(update: Update, context: BotContext) -> None:
    svc = context.services
    if not await _is_admin(update, svc):
        return
    s = await svc.storage.stats()
    accuracy = f"{s.reported_accuracy:.1%}" if s.reported_accuracy is not None else "n/a"
    lines = [
        f"<b>Model</b> {svc.reader.version}",
        f"Predictions: {s.predictions} from {s.users} users ({s.no_digit} with no digit)",
        f"Feedback: {s.feedback} ({s.confirmed} confirmed right)",
        f"Accuracy as users report it: {accuracy}",
        f"From memory: {s.recalled} answers ({s.recalled_confirmed} confirmed, {s.recalled_corrected} corrected again, "
        f"{s.recalled_dropped} 'not this time')",
        texts.ADMIN_COMMANDS,
    ]
    misses = sorted(((n, truth, read) for (truth, read), n in s.confusion.items() if truth != read), reverse=True)[:10]
    if misses:
        lines.append("\n<b>Most common misreads</b> (true → read)")
        lines += [f"{truth} → {read or 'none'}: {n}" for n, truth, read in misses]
    await reply(update, "\n".join(lines))
