package dev.ssekit;

import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * The encoder half of ssekit's one codec (the parser half is {@link SseParser}). Writes the WHATWG
 * event stream format: fields in the order id, event, data, retry, each line ended by LF, the
 * event ended by a blank line. Every CR, LF or CRLF inside data or a comment starts a new line of
 * the same kind, so nothing can be injected. Stateless and thread-safe.
 */
final class Codec {

    private static final byte[] ID = "id: ".getBytes(UTF_8);
    private static final byte[] EVENT = "event: ".getBytes(UTF_8);
    private static final byte[] DATA = "data:".getBytes(UTF_8);
    private static final byte[] RETRY = "retry: ".getBytes(UTF_8);
    private static final byte CR = '\r';
    private static final byte LF = '\n';

    private Codec() {
    }

    /**
     * Encodes one event. Values are assumed validated (see {@link SseMessage.Builder#build()}).
     *
     * @param retryMillis the retry hint, or -1 for none
     */
    static byte[] encode(String id, String event, String data, long retryMillis) {
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
     * line). No blank line follows, so a comment never dispatches or ends an event.
     */
    static byte[] comment(String text) {
        byte[] b = text.getBytes(UTF_8);
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
}
