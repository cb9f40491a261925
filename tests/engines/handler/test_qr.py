import base64
from io import BytesIO

import pytest
import zxingcpp
from PIL import Image

from qrbench.config.models import QrOptions
from qrbench.engines.handler.qr import decode_qr, encode_png_data_url

TEXT = "2@abcdefghijklmnopqrstuvwxyz0123456789,bm9pc2Vub2lzZW5vaXNl,aWRlbnRpdHk=,YWR2YWR2"


def png_of(data_url: str) -> bytes:
    prefix = "data:image/png;base64,"
    assert data_url.startswith(prefix)
    return base64.b64decode(data_url[len(prefix) :])


@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
def test_encoded_qr_decodes_to_the_same_text(level: str) -> None:
    data_url = encode_png_data_url(TEXT, QrOptions(error_correction=level))  # type: ignore[arg-type]
    assert decode_qr(png_of(data_url)) == TEXT


def test_width_sets_the_image_size() -> None:
    data_url = encode_png_data_url(TEXT, QrOptions(error_correction="M", width=256, margin=2))
    image = Image.open(BytesIO(png_of(data_url)))
    assert image.size == (256, 256)
    assert decode_qr(png_of(data_url)) == TEXT


def test_higher_error_correction_makes_a_denser_code() -> None:
    low = encode_png_data_url(TEXT, QrOptions(error_correction="L"))
    high = encode_png_data_url(TEXT, QrOptions(error_correction="H"))
    assert len(png_of(high)) > len(png_of(low))


def test_blank_image_decodes_to_nothing() -> None:
    buffer = BytesIO()
    Image.new("RGB", (64, 64), "white").save(buffer, format="PNG")
    assert decode_qr(buffer.getvalue()) == ""


@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
def test_the_code_has_the_error_correction_and_quiet_zone_asked_for(level: str) -> None:
    wide = Image.open(BytesIO(png_of(encode_png_data_url(TEXT, QrOptions(error_correction=level)))))  # type: ignore[arg-type]
    narrow_url = encode_png_data_url(TEXT, QrOptions(error_correction=level, margin=1))  # type: ignore[arg-type]
    narrow = Image.open(BytesIO(png_of(narrow_url)))
    found = zxingcpp.read_barcode(wide)
    assert found is not None and found.ec_level == level
    # Four modules of quiet zone a side against one, at node-qrcode's 4 px a module.
    assert wide.size[0] - narrow.size[0] == 2 * 3 * 4
