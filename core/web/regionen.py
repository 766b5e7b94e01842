"""Regions for admins: /redaktion/regionen. An admin creates a region's content source
with its label, colours, logo and partner site; its editors (accounts whose sources list
the region) then write entries in the browser. The theme is served without a restart
(core.web.region_store). ``mentoring40 content export --pack NAME`` turns the region into
a pack folder, ``plugins new --from-pack`` into a plugin (docs/REGION.md)."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath

from core.accounts import audit, current_account
from core.content import queries
from core.content.model import CORE_SOURCE
from core.web.base import Req, live_sites, web_of
from core.web.partnerseiten import PROBLEMS as SITE_PROBLEMS
from core.web.redaktion import editor_page, see_other
from core.web.region_store import (
    LOGO_MAX_BYTES,
    LiveRegions,
    RegionValues,
    check_logo,
    check_region_values,
    create_region,
    stored_regions,
    update_region,
)
from core.web.site_store import SiteProblem, SiteValues, check_values

ADMIN: dict[str, Any] = {"roles": ("admin",)}
BASE = "/redaktion/regionen"

PROBLEMS = {
    **SITE_PROBLEMS,
    "name_invalid": "Die Kennung besteht aus 2 bis 30 Kleinbuchstaben, Ziffern und einzelnen "
    "Bindestrichen und beginnt mit einem Buchstaben, z. B. sachsen oder rhein-main.",
    "name_reserved": "Diese Kennung verwendet der Werkzeugkasten selbst; bitte eine andere wählen.",
    "name_taken": "Diese Kennung hat schon eine Quelle, ein Erscheinungsbild, eine Partnerseite "
    "oder ein Plugin; bitte eine andere wählen.",
    "label_invalid": "Der Name hat 1 bis 80 Zeichen: Buchstaben, Ziffern, Leerzeichen und "
    ". , ( ) & ' – -; er beginnt mit einem Buchstaben oder einer Ziffer.",
    "colour_invalid": "Bitte die Farbe als #rrggbb angeben, z. B. #00632e.",
    "colour_contrast": "Weiße Schrift ist auf dieser Farbe zu schwer zu lesen",
    "logo_large": f"Das Logo ist zu groß; höchstens {LOGO_MAX_BYTES // 1024} KiB.",
    "logo_pixels": "Das Logo ist zu groß; höchstens 2000 Pixel Breite und Höhe.",
    "logo_svg": "SVG-Dateien nehmen wir nicht an (sie können Skripte enthalten); bitte das "
    "Logo als PNG oder WebP hochladen.",
    "logo_invalid": "Die Datei ist kein lesbares PNG- oder WebP-Bild.",
}
FIELDS = ("name", "label", "primary", "accent", "origins")


def _message(problem: SiteProblem) -> str:
    text = PROBLEMS.get(problem.code, problem.code)
    if problem.code == "colour_contrast":
        ratio = problem.detail.replace(".", ",")
        return f"{text} (Kontrast {ratio}:1, nötig sind 4,5:1); bitte eine dunklere Farbe wählen."
    if problem.code == "origin_invalid":
        return f"{text}: „{problem.value}“ ({problem.detail})."
    return text


def _live_regions(request: Req) -> LiveRegions:
    regions = live_sites(request).regions
    assert isinstance(regions, LiveRegions), "the app gives its LiveSites the regions"
    return regions


@get(BASE, opt=ADMIN, include_in_schema=False)
async def regions_list(request: Req) -> Response[str]:
    live = live_sites(request)
    await live.refresh(force=True)
    regions = _live_regions(request)
    return editor_page(
        request,
        "redaktion/regionen.html",
        title="Regionen",
        records=await stored_regions(),
        shadowed=regions.shadowed,
        saved=request.query_params.get("gespeichert"),
    )


async def _form_page(
    request: Req,
    values: RegionValues,
    *,
    new: bool,
    status: int = 200,
    problems: list[SiteProblem] | None = None,
    origins_text: str = "",
    has_logo: bool = False,
) -> Response[str]:
    errors: dict[str, str] = {}
    for problem in problems or []:
        field = "origins" if problem.field == "origins" else problem.field
        errors[field] = " ".join(filter(None, [errors.get(field), _message(problem)]))
    saved = {"angelegt": "Die Region ist angelegt.", "geaendert": "Gespeichert."}.get(
        request.query_params.get("gespeichert") or ""
    )
    return editor_page(
        request,
        "redaktion/region.html",
        status=status,
        title="Neue Region" if new else f"Region {values.label}",
        new=new,
        values=values,
        origins_text=origins_text,
        errors=errors,
        saved=saved,
        has_logo=has_logo,
        logo_max_kib=LOGO_MAX_BYTES // 1024,
    )


async def _read_form(request: Req) -> tuple[dict[str, str], bytes, str]:
    """The region form: a multipart post (it carries the logo); text fields cut at 20,000
    characters, the logo read up to one byte over the limit (so a bigger one is refused
    without reading it all)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in {"multipart/form-data", "application/x-www-form-urlencoded"}:
        return {}, b"", ""
    form = await request.form()
    fields = {
        key: str(form.get(key) or "")[:20_000].replace("\x00", "")
        for key in (*FIELDS, "drop_logo")
        if not isinstance(form.get(key), UploadFile)
    }
    upload = form.get("logo")
    if isinstance(upload, UploadFile):
        data = await upload.read(LOGO_MAX_BYTES + 1)
        return fields, data, upload.filename or ""
    return fields, b"", ""


def _values(fields: dict[str, str], name: str) -> RegionValues:
    return RegionValues(
        name=name,
        label=fields.get("label", ""),
        primary=fields.get("primary", "").strip(),
        accent=fields.get("accent", "").strip(),
    )


@get(f"{BASE}/neu", opt=ADMIN, include_in_schema=False)
async def region_new(request: Req) -> Response[str]:
    return await _form_page(
        request, RegionValues(name="", label="", primary="#1f5f8b", accent="#0b6e4f"), new=True
    )


@post(f"{BASE}/neu", opt=ADMIN, include_in_schema=False, status_code=200)
async def region_create(request: Req) -> Response[str]:
    fields, logo_data, filename = await _read_form(request)
    origins_text = fields.get("origins", "")
    web, _ = web_of(request)
    live = live_sites(request)
    await live.refresh(force=True)
    taken = (
        set((await queries.taxonomy_labels()).get("source", {}))
        | set(web.themes)
        | set(live.file_sites)
        | set(live.stored)
        | set(_live_regions(request).records)
    )
    values, problems = check_region_values(_values(fields, fields.get("name", "")), taken=taken)
    logo, logo_problem = check_logo(logo_data, filename)
    if logo_problem is not None:
        problems.append(logo_problem)
    site, site_problems = check_values(
        SiteValues(
            site_id=values.name,
            label=f"Mentoring 4.0 – {values.label}",
            theme=values.name,
            description=f"Werkzeugkasten, Suche und Quickcheck mit den Einträgen der Region "
            f"{values.label}.",
            origins=[line.strip() for line in origins_text.splitlines() if line.strip()],
            sources=[CORE_SOURCE, values.name],
        ),
        themes={values.name},
    )
    problems += [p for p in site_problems if p.field == "origins"]
    if problems:
        return await _form_page(
            request, values, new=True, status=422, problems=problems, origins_text=origins_text
        )
    account = current_account(request)
    await create_region(values, logo, site, by=account.email if account else "")
    await live.refresh(force=True)
    # The source's name and label on pages and in the editor's choices: at once in this
    # worker, in others within LABELS_TTL_SECONDS (as after a sync).
    web_of(request)[1].cache.pop("labels", None)
    await audit.record(
        "region.create", account=account, object_type="region", object_id=values.name,
        detail={"label": values.label, "primary": values.primary, "accent": values.accent,
                "logo": logo is not None, "origins": site.origins},
        request=request,
    )  # fmt: skip
    return see_other(f"{BASE}/{values.name}?gespeichert=angelegt")


def _unknown(request: Req, name: str) -> Response[str]:
    return editor_page(
        request, "redaktion/verweigert.html", status=404, title="Nicht gefunden",
        message=f"Es gibt keine Region „{name[:40]}“.",
    )  # fmt: skip


@get(f"{BASE}/{{name:str}}", opt=ADMIN, include_in_schema=False)
async def region_edit(request: Req, name: FromPath[str]) -> Response[str]:
    await live_sites(request).refresh(force=True)
    record = _live_regions(request).records.get(name)
    if record is None:
        return _unknown(request, name)
    return await _form_page(request, record, new=False, has_logo=record.logo is not None)


@post(f"{BASE}/{{name:str}}", opt=ADMIN, include_in_schema=False, status_code=200)
async def region_update(request: Req, name: FromPath[str]) -> Response[str]:
    live = live_sites(request)
    await live.refresh(force=True)
    record = _live_regions(request).records.get(name)
    if record is None:
        return _unknown(request, name)
    fields, logo_data, filename = await _read_form(request)
    values, problems = check_region_values(_values(fields, name))
    logo, logo_problem = check_logo(logo_data, filename)
    if logo_problem is not None:
        problems.append(logo_problem)
    if problems:
        return await _form_page(
            request, values, new=False, status=422, problems=problems,
            has_logo=record.logo is not None,
        )  # fmt: skip
    account = current_account(request)
    drop = fields.get("drop_logo") == "1" and logo is None
    await update_region(values, logo, by=account.email if account else "", drop_logo=drop)
    await live.refresh(force=True)
    web_of(request)[1].cache.pop("labels", None)
    await audit.record(
        "region.update", account=account, object_type="region", object_id=name,
        detail={"label": values.label, "primary": values.primary, "accent": values.accent,
                "logo": "neu" if logo else ("entfernt" if drop else "unverändert"),
                "before": {"primary": record.primary, "accent": record.accent}},
        request=request,
    )  # fmt: skip
    return see_other(f"{BASE}/{name}?gespeichert=geaendert")


ROUTES: list[Any] = [regions_list, region_new, region_create, region_edit, region_update]
