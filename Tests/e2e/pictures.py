"""PNG decoding, small test PNGs and colour checks shared by the end-to-end tests (no imaging package needed)."""
import struct
import zlib


def decode_png(path):
    """Pixels of an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) as (width, height, rows)."""
    if isinstance(path, bytes):
        data = path
    else:
        with open(path, "rb") as file:
            data = file.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, header = 8, b"", None
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        chunk = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        offset += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = previous[x]
            c = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def text_chunk(data, keyword):
    """The text of a tEXt chunk named `keyword`, or None."""
    offset = 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        chunk = data[offset + 8:offset + 8 + length]
        if kind == b"tEXt" and chunk.split(b"\0", 1)[0] == keyword.encode():
            return chunk.split(b"\0", 1)[1].decode("latin-1")
        offset += 12 + length
    return None


def image_format_and_size(data):
    """('png' | 'jpeg' | 'webp', width, height) read from the file's header."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    if data.startswith(b"\xff\xd8\xff"):
        offset = 2
        while offset < len(data):
            marker, length = data[offset + 1], struct.unpack(">H", data[offset + 2:offset + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[offset + 5:offset + 9])
                return "jpeg", width, height
            offset += 2 + length
        raise AssertionError("JPEG without a frame header")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        kind = data[12:16]
        if kind == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return "webp", width & 0x3FFF, height & 0x3FFF
        if kind == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return "webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if kind == b"VP8X":
            return "webp", int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    raise AssertionError(f"not a PNG, JPEG or WebP: {data[:16]!r}")


def dominant_colour(path, region=None):
    """'red', 'green' or 'blue': the hue most of the clearly coloured pixels lean to, or None
    when fewer than 40 pixels are coloured. `region` is (x0, y0, x1, y1) in pixels."""
    width, height, channels, rows = decode_png(path)
    x0, y0, x1, y1 = region or (0, 0, width, height)
    counts = {"red": 0, "green": 0, "blue": 0}
    for row in rows[y0:y1]:
        for x in range(x0 * channels, x1 * channels, channels):
            r, g, b = row[x], row[x + 1], row[x + 2]
            if max(r, g, b) - min(r, g, b) > 60:
                counts[max((("red", r), ("green", g), ("blue", b)), key=lambda pair: pair[1])[0]] += 1
    best = max(counts, key=counts.get)
    return best if counts[best] >= 40 else None


PNG = b"\x89PNG\r\n\x1a\n"


def png_rgba(width, height, pixel):
    """A plain RGBA PNG; `pixel(x, y)` gives (r, g, b, a)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return PNG + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def png_size(data):
    assert data.startswith(PNG)
    return struct.unpack(">II", data[16:24])


def red_circle_bottom_left():
    """A 64x64 source for edits, drawn as the demo models' dataset draws: a red circle in the
    bottom-left quadrant on their light background. Drawn here, not sampled, so the tests know
    where the shape is whatever the committed model would place it."""
    def pixel(x, y):
        inside = (x + 0.5 - 16) ** 2 + (y + 0.5 - 48) ** 2 <= 11 ** 2
        return (220, 40, 40, 255) if inside else (236, 236, 232, 255)
    return png_rgba(64, 64, pixel)


def quadrant_mask(side=64):
    """Transparent (regenerate) in the top-left quadrant, opaque elsewhere."""
    return png_rgba(side, side, lambda x, y: (0, 0, 0, 0) if x < side // 2 and y < side // 2 else (0, 0, 0, 255))


def mean_difference(first, second, region):
    """Mean absolute RGB difference of two PNGs (bytes) of one size over `region` (x0, y0, x1, y1)."""
    width, height, channels, rows = decode_png(first)
    other_width, other_height, other_channels, other_rows = decode_png(second)
    assert (width, height) == (other_width, other_height)
    x0, y0, x1, y1 = region
    total = count = 0
    for y in range(y0, y1):
        for x in range(x0, x1):
            for c in range(3):
                total += abs(rows[y][x * channels + c] - other_rows[y][x * other_channels + c])
                count += 1
    return total / count
