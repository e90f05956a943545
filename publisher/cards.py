"""Share images: a 1200x630 PNG per release (and one for the site), drawn with Pillow.

Text is drawn as text, never interpreted: a title such as ``</script>`` is just
glyphs. Pillow's bundled scalable font is used, so no system font is needed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1200, 630
STATUS_COLOURS = {
    "provisional": (80, 90, 95),
    "confirmed": (29, 112, 184),
    "postponed": (244, 119, 56),
    "cancelled": (212, 53, 28),
    "published": (0, 112, 60),
}


@dataclass(frozen=True)
class Card:
    title: str
    organisation: str
    when: str = ""
    status: str = ""
    status_label: str = ""
    site: str = ""


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, size: int, width: int, lines: int
) -> list[str]:
    font = _font(size)
    # no glyph is narrower than an eighth of the font size, so past this many
    # characters nothing more can be drawn: the rest is never measured
    most = lines * width * 8 // size
    if len(text) > most:
        text = text[:most] + "…"
    words = text.split()
    out: list[str] = []
    current = ""

    def fits(candidate: str) -> bool:
        return draw.textlength(candidate, font=font) <= width

    for word in words:
        if len(out) > lines:
            break  # only the first lines are drawn: the rest is never measured
        trial = f"{current} {word}".strip()
        if fits(trial):
            current = trial
            continue
        if current:
            out.append(current)
        current = word
        while not fits(current) and len(out) <= lines:  # one very long word
            low, high = 1, len(current)  # the longest prefix that fits, by halves
            while low < high:
                mid = (low + high + 1) // 2
                low, high = (mid, high) if fits(current[:mid]) else (low, mid - 1)
            out.append(current[:low])
            current = current[low:]
    if current and len(out) <= lines:
        out.append(current)
    if len(out) > lines:
        out = out[:lines]
        last = out[-1]
        while last and draw.textlength(last + "…", font=font) > width:
            last = last[:-1]
        out[-1] = last.rstrip() + "…"
    return out


def render_card(card: Card) -> bytes:
    """The PNG bytes of a share card (well under 1 MB)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    colour = STATUS_COLOURS.get(card.status, (11, 12, 12))
    draw.rectangle((0, 0, WIDTH, 110), fill=(11, 12, 12))
    draw.text((60, 34), card.organisation[:60], font=_font(40), fill=(255, 255, 255))
    draw.rectangle((0, 110, 24, HEIGHT), fill=colour)
    y = 150
    for line in _wrap(draw, card.title, 64, WIDTH - 140, 4):
        draw.text((60, y), line, font=_font(64), fill=(11, 12, 12))
        y += 78
    if card.status_label:
        label = card.status_label.upper()
        font = _font(34)
        box = draw.textbbox((60, HEIGHT - 110), label, font=font)
        draw.rectangle(
            (box[0] - 14, box[1] - 10, box[2] + 14, box[3] + 10), fill=colour
        )
        draw.text((60, HEIGHT - 110), label, font=font, fill=(255, 255, 255))
        x = box[2] + 40
    else:
        x = 60
    if card.when:
        draw.text((x, HEIGHT - 110), card.when[:60], font=_font(34), fill=(80, 90, 95))
    if card.site:
        draw.text((60, HEIGHT - 50), card.site[:80], font=_font(26), fill=(80, 90, 95))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
