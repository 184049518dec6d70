"""The report's appendix of the units' photos (issue 20): read back with python-docx, and
printed through LibreOffice."""

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document
from docx.shared import Cm
from PIL import Image

from bot.documents.formats import written
from bot.documents.report import PHOTO_CELL
from bot.images import normalized
from bot.stats.export import Export, ExportPhoto
from bot.stats.table import UnitSheet
from tests.test_exports import AT, CAMPAIGN

TITLE = "PHỤ LỤC: HÌNH ẢNH HOẠT ĐỘNG"
SHEETS = [
    UnitSheet("th-a", "Trường Tiểu học Chi Nê", "truong-hoc", {}, "Xã Lạc Thủy"),
    UnitSheet("th-b", "Trường THCS Thống Nhất", "truong-hoc", {}, "Xã Thống Nhất"),
    UnitSheet("th-c", "Trường Mầm non Hoa Sen", "truong-hoc", {}, "Xã Lạc Thủy"),
]


def photo(folder: Path, name: str, colour, size=(1600, 1200), caption="") -> ExportPhoto:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    done = normalized(out.getvalue())
    path = folder / f"{name}.jpg"
    path.write_bytes(done.jpeg)
    return ExportPhoto(path, caption, done.width, done.height)


@pytest.fixture
def kept(tmp_path):
    return {
        "th-a": [
            photo(tmp_path, "a1", (200, 60, 60), caption="Lễ khai mạc Tuần lễ"),
            photo(tmp_path, "a2", (60, 160, 60), size=(900, 1600), caption="Thư viện"),
        ],
        "th-b": [photo(tmp_path, "b1", (60, 60, 200))],
    }


def report(photos, sheets=SHEETS) -> Document:
    return Document(io.BytesIO(written(Export(CAMPAIGN, sheets, AT, photos), "docx")))


def test_the_appendix_shows_each_photo_with_its_caption_by_commune(kept):
    document = report(kept)
    texts = [p.text for p in document.paragraphs]
    assert TITLE in texts
    assert "Hình ảnh hoạt động do các đơn vị gửi (3 ảnh của 2 đơn vị)" in texts
    after = texts[texts.index(TITLE) :]
    assert [t for t in after if t.startswith("Xã")] == ["Xã Lạc Thủy", "Xã Thống Nhất"]
    grids = document.tables[-2:]
    captions = [
        c.paragraphs[1].text for grid in grids for c in grid._cells if len(c.paragraphs) > 1
    ]
    assert captions == [
        "Ảnh 1. Lễ khai mạc Tuần lễ — Trường Tiểu học Chi Nê",
        "Ảnh 2. Thư viện — Trường Tiểu học Chi Nê",
        "Ảnh 3. Trường THCS Thống Nhất",
    ]
    shapes = document.inline_shapes
    assert len(shapes) == 3
    for shape in shapes:  # within its half of the text, at most 6.5 cm high, proportions kept
        assert shape.width <= PHOTO_CELL and shape.height <= Cm(6.5) + 2
    wide, tall, _ = shapes
    assert abs(wide.width / wide.height - 4 / 3) < 0.01
    assert abs(tall.width / tall.height - 900 / 1600) < 0.01


def test_without_photos_there_is_no_appendix():
    texts = [p.text for p in report({}).paragraphs]
    assert TITLE not in texts and not report({}).inline_shapes


def test_without_communes_the_photos_follow_the_units_order(kept):
    flat = [UnitSheet(s.code, s.name, s.type, {}) for s in SHEETS]
    document = report(kept, flat)
    texts = [p.text for p in document.paragraphs]
    assert not [t for t in texts[texts.index(TITLE) :] if t.startswith("Xã")]
    assert len(document.inline_shapes) == 3


def test_a_photo_whose_file_is_gone_keeps_its_caption_without_a_picture(kept):
    kept["th-a"][0].path.unlink()
    document = report(kept)
    assert len(document.inline_shapes) == 2
    cells = [c.text for grid in document.tables[-2:] for c in grid._cells]
    assert any("Ảnh 1. Lễ khai mạc" in text for text in cells)


@pytest.mark.skipif(
    not (shutil.which("soffice") and shutil.which("pdftotext") and shutil.which("pdftoppm")),
    reason="LibreOffice (soffice) and poppler (pdftotext, pdftoppm) are not installed",
)
def test_the_printed_appendix_has_the_photos_and_captions_on_an_a4_page(kept, tmp_path):
    (tmp_path / "report.docx").write_bytes(written(Export(CAMPAIGN, SHEETS, AT, kept), "docx"))
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path), "report.docx"],
        cwd=tmp_path, check=True, capture_output=True, timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},
    )  # fmt: skip
    pdf = tmp_path / "report.pdf"
    text = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True).stdout
    appendix = next(page for page in text.split("\f") if TITLE in page)
    assert "Ảnh 1. Lễ khai mạc Tuần lễ" in appendix and "Ảnh 3. Trường THCS Thống Nhất" in appendix
    last = len(text.split("\f")) - 1
    subprocess.run(
        ["pdftoppm", "-png", "-r", "30", "-f", str(last), "-l", str(last), pdf, tmp_path / "page"],
        check=True,
    )
    [png] = tmp_path.glob("page*.png")
    page = Image.open(png).convert("RGB")
    assert abs(page.width / page.height - 210 / 297) < 0.01  # A4 portrait
    colours = {colour for _count, colour in page.getcolors(1 << 20)}

    def near(want):
        return any(sum(abs(a - b) for a, b in zip(c, want, strict=True)) < 40 for c in colours)

    assert near((200, 60, 60)) and near((60, 160, 60)) and near((60, 60, 200))  # the photos
    if out := os.environ.get("LOA_KEEP_RENDER"):
        shutil.copy(pdf, out)
