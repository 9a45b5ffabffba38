package dev.ssekit.codec;

/**
 * The UTF-8 decoder of the WHATWG Encoding Standard (section 8.1.1, "UTF-8 decoder"), which the
 * HTML standard prescribes for event streams: an ill-formed sequence becomes one U+FFFD per maximal
 * subpart (Unicode 3.9, "U+FFFD Substitution of Maximal Subparts"). The JDK's decoder differs on
 * encoded surrogates ({@code ED A0 80} is one U+FFFD there, three here), hence this one.
 *
 * <p>Stateless and thread-safe.
 */
final class Utf8 {

    private static final char REPLACEMENT = '\uFFFD';

    private Utf8() {
    }

    /**
     * Decodes {@code b[from, to)}; an incomplete sequence at the end is one U+FFFD.
     *
     * @param b the bytes
     * @param from the first byte
     * @param to the end, exclusive
     * @return the text
     */
    static String decode(byte[] b, int from, int to) {
        int i = from;
        while (i < to && b[i] >= 0) {
            i++;
        }
        if (i == to) {
            return new String(b, from, to - from, java.nio.charset.StandardCharsets.ISO_8859_1); // all ASCII
        }
        StringBuilder out = new StringBuilder(to - from);
        for (int k = from; k < i; k++) {
            out.append((char) b[k]);
        }
        int codePoint = 0;
        int needed = 0;
        int seen = 0;
        int lower = 0x80;
        int upper = 0xBF;
        while (i < to) {
            int c = b[i] & 0xFF;
            if (needed == 0) {
                if (c <= 0x7F) {
                    out.append((char) c);
                } else if (c >= 0xC2 && c <= 0xDF) {
                    needed = 1;
                    codePoint = c & 0x1F;
                } else if (c >= 0xE0 && c <= 0xEF) {
                    if (c == 0xE0) {
                        lower = 0xA0;
                    } else if (c == 0xED) {
                        upper = 0x9F;
                    }
                    needed = 2;
                    codePoint = c & 0xF;
                } else if (c >= 0xF0 && c <= 0xF4) {
                    if (c == 0xF0) {
                        lower = 0x90;
                    } else if (c == 0xF4) {
                        upper = 0x8F;
                    }
                    needed = 3;
                    codePoint = c & 0x7;
                } else {
                    out.append(REPLACEMENT);
                }
                i++;
                continue;
            }
            if (c < lower || c > upper) {
                // the maximal subpart ends before this byte, which is processed again on its own
                codePoint = 0;
                needed = 0;
                seen = 0;
                lower = 0x80;
                upper = 0xBF;
                out.append(REPLACEMENT);
                continue;
            }
            lower = 0x80;
            upper = 0xBF;
            codePoint = (codePoint << 6) | (c & 0x3F);
            seen++;
            i++;
            if (seen == needed) {
                out.appendCodePoint(codePoint);
                codePoint = 0;
                needed = 0;
                seen = 0;
            }
        }
        if (needed != 0) {
            out.append(REPLACEMENT);
        }
        return out.toString();
    }
}
