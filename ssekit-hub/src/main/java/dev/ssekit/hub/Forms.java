package dev.ssekit.hub;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Strict {@code application/x-www-form-urlencoded} decoding (publish bodies and query strings):
 * {@code +} is a space, {@code %XX} a byte, and the bytes must be UTF-8; the same for path segments,
 * where {@code +} stays a plus. Unlike a lenient decoder,
 * malformed input is refused rather than turned into U+FFFD and stored.
 */
final class Forms {

    private Forms() {
    }

    /**
     * Decodes the pairs, in order; a name without {@code =} has the value "".
     *
     * @throws IllegalArgumentException for a bad percent-escape, bytes that are not UTF-8, or more
     *     than {@code maxFields} fields (the message says which)
     */
    static Map<String, List<String>> decode(byte[] form, int maxFields) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        int fields = 0;
        int start = 0;
        while (start <= form.length) {
            int end = start;
            while (end < form.length && form[end] != '&') {
                end++;
            }
            if (end > start) {
                if (++fields > maxFields) {
                    throw new IllegalArgumentException("more than " + maxFields + " form fields");
                }
                int eq = start;
                while (eq < end && form[eq] != '=') {
                    eq++;
                }
                String name = percentDecoded(form, start, eq, true, "the form");
                String value = eq < end ? percentDecoded(form, eq + 1, end, true, "the form") : "";
                out.computeIfAbsent(name, k -> new ArrayList<>(1)).add(value);
            }
            start = end + 1;
        }
        return out;
    }

    /**
     * Percent-decodes one path segment ({@code +} stays a plus), strictly.
     *
     * @param segment as Netty read it from the request line: one char per byte
     * @throws IllegalArgumentException for a bad percent-escape or bytes that are not UTF-8
     */
    static String pathSegment(String segment) {
        byte[] raw = segment.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        return percentDecoded(raw, 0, raw.length, false, "a path segment");
    }

    private static String percentDecoded(byte[] b, int from, int to, boolean plusIsSpace, String what) {
        byte[] bytes = new byte[to - from];
        int n = 0;
        int high = 0; // any byte at or above 0x80 sets the sign bit
        for (int i = from; i < to; i++) {
            byte c = b[i];
            if (c == '+' && plusIsSpace) {
                bytes[n++] = ' ';
            } else if (c == '%') {
                int hi = i + 2 < to ? Character.digit(b[i + 1], 16) : -1;
                int lo = hi >= 0 ? Character.digit(b[i + 2], 16) : -1;
                if (lo < 0) {
                    throw new IllegalArgumentException("malformed percent-encoding in " + what);
                }
                byte d = (byte) (hi << 4 | lo);
                high |= d;
                bytes[n++] = d;
                i += 2;
            } else {
                high |= c;
                bytes[n++] = c;
            }
        }
        if (high >= 0) {
            // all ASCII, so valid UTF-8 that decodes byte for byte (the common case: no decoder to build)
            return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
        }
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return utf8.decode(ByteBuffer.wrap(bytes, 0, n)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(what + " is not UTF-8");
        }
    }
}
