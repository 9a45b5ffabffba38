package dev.ssekit.codec;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.time.Duration;

/**
 * The encoder half of ssekit's one codec (the parser half is {@link SseParser}). Writes the WHATWG
 * event stream format: fields in the order id, event, data, retry, each line ended by LF, the
 * event ended by a blank line. Every CR, LF or CRLF inside data or a comment starts a new line of
 * the same kind, so nothing can be injected through them; {@link #validate} rejects the values that
 * could inject through the other fields ({@code id} with CR, LF or NUL, {@code event} with CR or
 * LF, a negative {@code retry}). The server's {@code dev.ssekit.SseMessage} encodes through this
 * class, so every part of ssekit writes the same bytes.
 *
 * <p>Stateless and thread-safe.
 */
public final class SseEncoder {

    private static final byte[] ID = "id: ".getBytes(UTF_8);
    private static final byte[] EVENT = "event: ".getBytes(UTF_8);
    private static final byte[] DATA = "data:".getBytes(UTF_8);
    private static final byte[] RETRY = "retry: ".getBytes(UTF_8);
    private static final byte CR = '\r';
    private static final byte LF = '\n';

    private SseEncoder() {
    }

    /**
     * Checks that the fields can be written without one injecting another: the rules {@link
     * #encode} applies. A {@code null} field is absent.
     *
     * @param id the event id, or null
     * @param event the event type, or null
     * @param data the data, or null; any text is allowed
     * @param retry the reconnection time hint, or null
     * @throws IllegalArgumentException if {@code id} contains CR, LF or NUL, {@code event} contains
     *     CR or LF, {@code retry} is negative or too large to be written in milliseconds, or every
     *     field is null; the message names the field and, for a bad character, its index
     */
    public static void validate(String id, String event, String data, Duration retry) {
        if (id != null) {
            int bad = indexOfAny(id, true);
            if (bad >= 0) {
                throw new IllegalArgumentException("id must not contain CR, LF or NUL: found "
                        + describe(id.charAt(bad)) + " at index " + bad + " in id " + quote(id));
            }
        }
        if (event != null) {
            int bad = indexOfAny(event, false);
            if (bad >= 0) {
                throw new IllegalArgumentException("event must not contain CR or LF: found "
                        + describe(event.charAt(bad)) + " at index " + bad + " in event " + quote(event));
            }
        }
        if (retry != null) {
            if (retry.isNegative()) {
                throw new IllegalArgumentException("retry must not be negative: " + retry);
            }
            try {
                retry.toMillis();
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("retry is too large to be sent in milliseconds: " + retry, e);
            }
        }
        if (id == null && event == null && data == null && retry == null) {
            throw new IllegalArgumentException(
                    "an event needs at least one of id, event, data or retry; none is set");
        }
    }

    /**
     * Encodes one event, UTF-8, ending with the blank line that makes clients dispatch it. Fields
     * are written in the order id, event, data, retry; a {@code null} field is left out. Each CR,
     * LF or CRLF in {@code data} starts a new {@code data:} line, so a client reads every line break
     * back as LF; empty data is written as {@code data:}, which clients dispatch as the empty
     * string. {@code retry} is written in whole milliseconds (truncated).
     *
     * @param id the event id, or null
     * @param event the event type, or null
     * @param data the data, or null
     * @param retry the reconnection time hint, or null
     * @return a new array, owned by the caller
     * @throws IllegalArgumentException if {@link #validate} rejects the fields
     */
    public static byte[] encode(String id, String event, String data, Duration retry) {
        validate(id, event, data, retry);
        return encode(id, event, data, retry == null ? -1 : retry.toMillis());
    }

    /** Encodes validated fields; {@code retryMillis} is -1 for none. */
    private static byte[] encode(String id, String event, String data, long retryMillis) {
        byte[] idB = id == null ? null : id.getBytes(UTF_8);
        byte[] evB = event == null ? null : event.getBytes(UTF_8);
        byte[] dataB = data == null ? null : data.getBytes(UTF_8);
        byte[] retryB = retryMillis < 0 ? null : Long.toString(retryMillis).getBytes(UTF_8);

        int size = 1;
        if (idB != null) {
            size += ID.length + idB.length + 1;
        }
        if (evB != null) {
            size += EVENT.length + evB.length + 1;
        }
        if (dataB != null) {
            size += linesSize(dataB, DATA.length);
        }
        if (retryB != null) {
            size += RETRY.length + retryB.length + 1;
        }

        byte[] out = new byte[size];
        int p = 0;
        if (idB != null) {
            p = field(out, p, ID, idB);
        }
        if (evB != null) {
            p = field(out, p, EVENT, evB);
        }
        if (dataB != null) {
            p = lines(out, p, DATA, dataB);
        }
        if (retryB != null) {
            p = field(out, p, RETRY, retryB);
        }
        out[p] = LF;
        return out;
    }

    /**
     * Encodes a comment: one {@code : text} line per line of the text ({@code :} alone for an empty
     * line; each CR, LF or CRLF starts a new line). No blank line follows, so a comment never
     * dispatches or ends an event. Clients ignore comments; servers send them as heartbeats.
     *
     * @param text the comment; any text
     * @return a new array, owned by the caller
     * @throws NullPointerException if {@code text} is null
     */
    public static byte[] comment(String text) {
        byte[] b = java.util.Objects.requireNonNull(text, "text").getBytes(UTF_8);
        byte[] prefix = {':'};
        byte[] out = new byte[linesSize(b, prefix.length)];
        lines(out, 0, prefix, b);
        return out;
    }

    private static int field(byte[] out, int p, byte[] name, byte[] value) {
        System.arraycopy(name, 0, out, p, name.length);
        p += name.length;
        System.arraycopy(value, 0, out, p, value.length);
        p += value.length;
        out[p++] = LF;
        return p;
    }

    /** Bytes needed to write {@code value} as lines of {@code prefix[ value-line]\n}. */
    private static int linesSize(byte[] value, int prefixLength) {
        int size = 0;
        int start = 0;
        int n = value.length;
        for (int i = 0; i < n; i++) {
            byte c = value[i];
            if (c == LF || c == CR) {
                size += lineSize(i - start, prefixLength);
                if (c == CR && i + 1 < n && value[i + 1] == LF) {
                    i++;
                }
                start = i + 1;
            }
        }
        return size + lineSize(n - start, prefixLength);
    }

    private static int lineSize(int len, int prefixLength) {
        return prefixLength + (len == 0 ? 0 : len + 1) + 1;
    }

    private static int lines(byte[] out, int p, byte[] prefix, byte[] value) {
        int start = 0;
        int n = value.length;
        for (int i = 0; i < n; i++) {
            byte c = value[i];
            if (c == LF || c == CR) {
                p = line(out, p, prefix, value, start, i - start);
                if (c == CR && i + 1 < n && value[i + 1] == LF) {
                    i++;
                }
                start = i + 1;
            }
        }
        return line(out, p, prefix, value, start, n - start);
    }

    private static int line(byte[] out, int p, byte[] prefix, byte[] value, int off, int len) {
        System.arraycopy(prefix, 0, out, p, prefix.length);
        p += prefix.length;
        if (len > 0) {
            out[p++] = ' ';
            System.arraycopy(value, off, out, p, len);
            p += len;
        }
        out[p++] = LF;
        return p;
    }

    private static int indexOfAny(String s, boolean nul) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\r' || c == '\n' || (nul && c == '\0')) {
                return i;
            }
        }
        return -1;
    }

    private static String describe(char c) {
        return switch (c) {
            case '\r' -> "CR";
            case '\n' -> "LF";
            default -> "NUL";
        };
    }

    private static String quote(String s) {
        String shown = s.length() > 80 ? s.substring(0, 80) + "…" : s;
        return '"' + shown.replace("\r", "\\r").replace("\n", "\\n").replace("\0", "\\0") + '"';
    }
}
