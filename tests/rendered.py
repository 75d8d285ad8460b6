"""Reading back what the report rendered: index.html's links, captions and text, and a PNG's
pixels; shared by the report stage's tests and the page's."""

from html.parser import HTMLParser

import numpy as np
from PIL import Image


class Page(HTMLParser):
    """What the test needs of index.html: links, images, captions per gallery, the text."""

    def __init__(self, text):
        super().__init__()
        self.links, self.captions, self.text, self._gallery = [], {}, [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and "gallery" in attrs.get("class", ""):
            self._gallery = attrs["id"]
            self.captions[self._gallery] = 0
        if tag == "figcaption" and self._gallery:
            self.captions[self._gallery] += 1
        link = attrs.get("src") or attrs.get("href")
        if tag in ("img", "a", "link", "script") and link is not None:  # not an inline script
            self.links.append(link)

    def handle_endtag(self, tag):
        if tag == "div":
            self._gallery = None

    def handle_data(self, data):
        self.text.append(data)


def pixels(path):
    """The PNG decoded: (height, width, 3) uint8, and its size (width, height)."""
    with Image.open(path) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB")), image.size


def count(region, colour):
    """Pixels of exactly this colour in the region."""
    return int((region == colour).all(axis=-1).sum())


def colours(region):
    return {tuple(c) for c in region.reshape(-1, 3)}


# matplotlib's first two line colours ("C0", "C1") and the diagonal's gray
C0, C1, GRAY = (31, 119, 180), (255, 127, 14), (128, 128, 128)
