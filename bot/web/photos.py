"""Units' photos on the web: the console's galleries (`/photos`, `/units/<code>/photos`, each
photo at `/photos/<id>.jpg`, a coordinator may remove one) and a unit's own on its form
(`/f/<token>/photos`: upload, see and remove its own, nobody else's).

An upload is read as a stream and refused as soon as it passes `LOA_PHOTO_MAX_BYTES`: the body
is never taken whole first. What is kept goes through `bot.ops.photos.add`, as the chat's
photos do (source "web", sender "web").
"""

from __future__ import annotations

import hmac

from aiohttp import BodyPartReader, web

from bot.ops import photos
from bot.ops.photos import Kept, Photo, Refused
from bot.ops.unitlinks import Door
from bot.web.console import CONSOLE, VISITOR, units_of
from bot.web.downloads import disposition
from bot.web.form import door_of, show
from bot.web.pages import NO_STORE, page

routes = web.RouteTableDef()

CAPTION = 300  # characters of a caption kept: a line under a photo, not a report
_FIELD = 4096  # bytes a plain field (the CSRF value, a caption) may take
_OVERHEAD = 64 * 1024  # what a multipart body carries besides the photo: boundaries, fields


# -- the console ---------------------------------------------------------------------------------


@routes.get("/photos")
async def every_unit(request: web.Request) -> web.StreamResponse:
    """The units that sent photos, how many each, the first as a thumbnail."""
    env = request.app[CONSOLE].env
    kept = await photos.by_unit(env, units_of(request))
    return page(request, "photos", kept=kept, total=sum(len(unit.photos) for unit in kept))


@routes.get("/units/{code}/photos")
async def gallery(request: web.Request) -> web.StreamResponse:
    env = request.app[CONSOLE].env
    found = await photos.of_unit(env, request.match_info["code"], units_of(request))
    if found is None:
        return _not_found(request, "unit")
    unit, kept = found
    removed = request.query.get("xoa", "")
    return page(
        request,
        "photos_unit",
        unit=unit,
        photos=kept,
        limit=env.photos.per_unit,
        tz=env.campaign.tz,
        removed=int(removed) if removed.isdigit() else None,
    )


@routes.get(r"/photos/{id:\d{1,12}}.jpg")
async def photo_file(request: web.Request) -> web.StreamResponse:
    env = request.app[CONSOLE].env
    photo = await photos.find(env, int(request.match_info["id"]), scope=units_of(request))
    return await _jpeg(request, photo)


@routes.post(r"/photos/{id:\d{1,12}}/remove")
async def remove(request: web.Request) -> web.StreamResponse:
    """A coordinator removes a unit's photo (one not fit for the report)."""
    env = request.app[CONSOLE].env
    photo = await photos.find(env, int(request.match_info["id"]), scope=units_of(request))
    if photo is None:
        return _not_found(request, "photo")
    await photos.remove_id(env, photo.unit_code, photo.id, actor=request[VISITOR].holder)
    raise web.HTTPSeeOther(f"/units/{photo.unit_code}/photos?xoa={photo.number}")


# -- a unit's form -------------------------------------------------------------------------------


@routes.post("/f/{token}/photos")
async def upload(request: web.Request) -> web.StreamResponse:
    """A photo from the unit's form: `csrf` first, then `caption`, then `photo` (as the page's
    form orders its fields), read as a stream and refused past the limit."""
    door = await door_of(request)
    if isinstance(door, web.Response):
        return door
    env = request.app[CONSOLE].env
    limit = env.photos.max_bytes
    if (request.content_length or 0) > limit + _OVERHEAD:  # refused before a byte is read
        return await _refused(request, door, "too_large", 413)
    if not request.content_type.startswith("multipart/"):
        return await _refused(request, door, "no_file", 400)
    reader = await request.multipart()
    csrf, caption, content = "", "", None
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "photo":
            if not hmac.compare_digest(csrf.encode(), door.csrf.encode()):
                break  # the token comes first: a body without it is not read
            content = await _bounded(part, limit)
            if content is None:
                return await _refused(request, door, "too_large", 413)
        elif part.name in ("csrf", "caption"):
            text = (await _bounded(part, _FIELD) or b"").decode("utf-8", "replace")
            csrf, caption = (text, caption) if part.name == "csrf" else (csrf, text)
    if not hmac.compare_digest(csrf.encode(), door.csrf.encode()):
        return page(request, "form_refused", http_status=403, reason="csrf")
    if not content:
        return await _refused(request, door, "no_file", 400)
    done = await photos.add(
        env, door.unit.code, content, caption=caption[:CAPTION], sender="web", source="web"
    )
    if isinstance(done, Refused):
        return await _refused(
            request, door, done.reason, 413 if done.reason == "too_large" else 422
        )
    raise web.HTTPSeeOther(f"{_form_path(request)}?anh={_kept_flag(done)}#anh")


@routes.get(r"/f/{token}/photos/{id:\d{1,12}}.jpg")
async def own_file(request: web.Request) -> web.StreamResponse:
    door = await door_of(request)
    if isinstance(door, web.Response):
        return door
    env = request.app[CONSOLE].env
    photo = await photos.find(env, int(request.match_info["id"]), door.unit.code)
    return await _jpeg(request, photo)


@routes.post(r"/f/{token}/photos/{id:\d{1,12}}/remove")
async def remove_own(request: web.Request) -> web.StreamResponse:
    door = await door_of(request)
    if isinstance(door, web.Response):
        return door
    posted = await request.post()
    given = posted.get("csrf")
    if not hmac.compare_digest(str(given or "").encode(), door.csrf.encode()):
        return page(request, "form_refused", http_status=403, reason="csrf")
    env = request.app[CONSOLE].env
    photo_id = int(request.match_info["id"])
    removed = await photos.remove_id(env, door.unit.code, photo_id, actor=door.author)
    if removed is None:  # not this unit's, or gone already
        return _not_found(request, "photo")
    raise web.HTTPSeeOther(f"{_form_path(request)}?anh=xoa#anh")


# -- helpers -------------------------------------------------------------------------------------


async def _bounded(part: BodyPartReader, limit: int) -> bytes | None:
    """The part's bytes, or None as soon as they pass `limit` (the rest is never read)."""
    chunks, size = [], 0
    while chunk := await part.read_chunk(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _jpeg(request: web.Request, photo: Photo | None) -> web.StreamResponse:
    if photo is None:
        return _not_found(request, "photo")
    try:
        content = await photos.read(request.app[CONSOLE].env, photo)
    except FileNotFoundError:  # removed meanwhile
        return _not_found(request, "photo")
    headers = dict(NO_STORE)
    if "tai" in request.query:  # the download link: saved under a name that says whose it is
        headers["Content-Disposition"] = disposition(f"anh-{photo.unit_code}-{photo.number}.jpg")
    return web.Response(body=content, content_type="image/jpeg", headers=headers)


def _not_found(request: web.Request, what: str) -> web.Response:
    """A 404 that says in words what is not there ("unit" or "photo")."""
    return page(request, "photos_not_found", http_status=404, what=what)


async def _refused(request: web.Request, door: Door, reason: str, status: int) -> web.Response:
    """The unit's form again, saying in words why the photo was not kept."""
    return await show(request, door, photo_refused=reason, http_status=status)


def _kept_flag(kept: Kept) -> str:
    return "trung" if kept.duplicate else "1"


def _form_path(request: web.Request) -> str:
    return f"/f/{request.match_info['token']}"
