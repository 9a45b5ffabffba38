package dev.ssekit.codec;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Objects;

/**
 * The incremental event stream parser: the parser half of ssekit's one codec, shared by the client,
 * the hub and the tests. It implements the interpretation algorithm of the WHATWG HTML standard,
 * section 9.2.6 ("Interpreting an event stream"), exactly:
 *
 * <ul>
 *   <li>one leading UTF-8 byte order mark is stripped; a later one is an ordinary character;
 *   <li>CRLF, lone LF and lone CR end a line, also when a CRLF is split between two reads;
 *   <li>a line starting with {@code :} is a comment; otherwise the field name runs to the first
 *       colon and exactly one U+0020 after it is removed; a line without a colon is a field with an
 *       empty value; field names are case-sensitive and unknown ones are ignored;
 *   <li>{@code id} containing U+0000 is ignored; {@code retry} is applied only when it is ASCII
 *       digits;
 *   <li>a blank line dispatches: the last event ID is updated even when there is no data, an event
 *       is only dispatched when the data buffer is not empty, one trailing LF is removed from the
 *       data, and an empty type means {@code message};
 *   <li>the last event ID is kept across events (and across streams, see {@link #reset()});
 *   <li>at the end of a stream an event without its final blank line is discarded.
 * </ul>
 *
 * <p>Bytes are decoded as UTF-8 whatever the response's charset says, with the WHATWG Encoding
 * Standard's UTF-8 decoder: malformed input becomes one U+FFFD per maximal subpart (so the
 * surrogate bytes {@code ED A0 80} give three, where the JDK's decoder gives one); a multi-byte
 * sequence split between reads is decoded whole. The parser copies what it needs,
 * so callers may reuse their buffers. Each line is scanned once, so time is linear in the input.
 *
 * <p>Not thread-safe: feed one stream from one thread at a time. The handler runs on the thread
 * that calls {@link #feed}; an exception it throws propagates to that caller, and the parser stays
 * usable.
 */
public final class SseParser {

    /**
     * Receives what the parser finds. Called on the thread that feeds the parser.
     */
    public interface Handler {
        /**
         * An event was dispatched.
         *
         * @param event the event
         */
        void onEvent(SseEvent event);

        /**
         * A comment line was read (heartbeats are comments). One leading space is removed.
         *
         * @param comment the text after the colon
         */
        default void onComment(String comment) {
        }

        /**
         * A valid {@code retry} field was read: the reconnection time to use from now on.
         *
         * @param delay the delay; values too large for a {@code long} of milliseconds are capped
         */
        default void onRetry(Duration delay) {
        }
    }

    private static final byte CR = '\r';
    private static final byte LF = '\n';
    private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

    /**
     * Thrown by {@link SseParser#feed} when a line, or the data of one event, exceeds the parser's
     * bound ({@link SseParser#create(Handler, String, int)}). The stream is then unusable; call
     * {@link SseParser#reset()} before feeding the parser the next stream.
     */
    public static final class LimitExceededException extends RuntimeException {

        private static final long serialVersionUID = 1L;

        /** The bound, in bytes. */
        private final int limit;

        LimitExceededException(String what, int limit) {
            super(what + " exceeds the bound of " + limit + " bytes (maxEventSize)", null, false, false);
            this.limit = limit;
        }

        /**
         * The bound that was exceeded.
         *
         * @return the bound, in bytes
         */
        public int limit() {
            return limit;
        }
    }

    /** The bound used by {@link #create(Handler)} and {@link #create(Handler, String)}: none. */
    private static final int UNBOUNDED = Integer.MAX_VALUE;

    private final Handler handler;
    /** The most bytes a line, or one event's data, may hold. */
    private final int maxEventSize;

    /** Bytes of a line whose end has not arrived yet. */
    private byte[] line = new byte[128];
    private int lineLength;
    /** The last byte of the previous read was CR: a LF at the start of the next read ends nothing. */
    private boolean afterCr;
    /** How many bytes of a leading BOM have been matched; 3 or -1 once decided. */
    private int bomMatched;

    private byte[] data = new byte[128];
    private int dataLength;
    private String eventType = "";
    private String idBuffer;
    private String lastEventId;

    private SseParser(Handler handler, String lastEventId, int maxEventSize) {
        this.handler = handler;
        this.maxEventSize = maxEventSize;
        this.idBuffer = lastEventId;
        this.lastEventId = lastEventId;
    }

    /**
     * A parser whose last event ID starts empty.
     *
     * @param handler receives events, comments and retry hints
     * @return a new parser
     * @throws NullPointerException if {@code handler} is null
     */
    public static SseParser create(Handler handler) {
        return create(handler, "");
    }

    /**
     * A parser whose last event ID starts at {@code lastEventId}, as for a client that resumes a
     * stream: events without an id of their own report it until a new id arrives.
     *
     * @param handler receives events, comments and retry hints
     * @param lastEventId the initial last event ID; empty for none
     * @return a new parser
     * @throws NullPointerException if an argument is null
     */
    public static SseParser create(Handler handler, String lastEventId) {
        return new SseParser(Objects.requireNonNull(handler, "handler"),
                Objects.requireNonNull(lastEventId, "lastEventId"), UNBOUNDED);
    }

    /**
     * A parser as {@link #create(Handler, String)} whose memory is bounded: a line longer than
     * {@code maxEventSize} bytes (without its line end), or an event whose data (its {@code data}
     * values joined by LF) grows beyond {@code maxEventSize} bytes, makes {@link #feed} throw
     * {@link LimitExceededException} as soon as the bytes that exceed it arrive, whether the line
     * came whole or in pieces. The parser then holds at most about twice the bound (a line and the
     * data). A client reading an untrusted server uses this, since a server that never ends a line
     * would otherwise grow it without limit.
     *
     * @param handler receives events, comments and retry hints
     * @param lastEventId the initial last event ID; empty for none
     * @param maxEventSize the most bytes a line or an event's data may hold; positive
     * @return a new parser
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code maxEventSize} is not positive
     */
    public static SseParser create(Handler handler, String lastEventId, int maxEventSize) {
        if (maxEventSize <= 0) {
            throw new IllegalArgumentException("maxEventSize must be positive: " + maxEventSize);
        }
        return new SseParser(Objects.requireNonNull(handler, "handler"),
                Objects.requireNonNull(lastEventId, "lastEventId"), maxEventSize);
    }

    /**
     * The last event ID: the id buffer's value at the last dispatch. This is what a client sends as
     * {@code Last-Event-ID} when it reconnects (when not empty).
     *
     * @return the last event ID; empty when none
     */
    public String lastEventId() {
        return lastEventId;
    }

    /**
     * Parses the next bytes of the stream.
     *
     * @param bytes the array holding them
     * @param offset where they start
     * @param length how many there are
     * @throws IndexOutOfBoundsException if the range is not inside the array
     */
    public void feed(byte[] bytes, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        int end = offset + length;
        int i = offset;
        while (bomMatched >= 0 && bomMatched < 3 && i < end) {
            if (bytes[i] == BOM[bomMatched]) {
                bomMatched++;
                i++;
            } else {
                int matched = bomMatched;
                bomMatched = -1;
                if (matched > 0) {
                    scan(BOM, 0, matched);
                }
            }
        }
        if (i < end) {
            scan(bytes, i, end);
        }
    }

    /**
     * Parses the next bytes of the stream.
     *
     * @param bytes the array holding them
     */
    public void feed(byte[] bytes) {
        feed(bytes, 0, bytes.length);
    }

    /**
     * Parses the remaining bytes of the buffer and advances its position to its limit.
     *
     * @param buffer the bytes
     */
    public void feed(ByteBuffer buffer) {
        if (buffer.hasArray()) {
            feed(buffer.array(), buffer.arrayOffset() + buffer.position(), buffer.remaining());
            buffer.position(buffer.limit());
        } else {
            byte[] chunk = new byte[Math.min(buffer.remaining(), 8192)];
            while (buffer.hasRemaining()) {
                int n = Math.min(chunk.length, buffer.remaining());
                buffer.get(chunk, 0, n);
                feed(chunk, 0, n);
            }
        }
    }

    /**
     * Ends the stream: an event whose final blank line has not arrived is discarded, as is an
     * unfinished line, and an id read since the last dispatch. The parser is then ready for the
     * next stream of the same source (a reconnection), keeping {@link #lastEventId()}; that stream
     * may start with its own byte order mark.
     */
    public void reset() {
        lineLength = 0;
        afterCr = false;
        bomMatched = 0;
        dataLength = 0;
        eventType = "";
        idBuffer = lastEventId;
    }

    private void scan(byte[] b, int i, int end) {
        if (afterCr) {
            afterCr = false;
            if (b[i] == LF) {
                i++;
            }
        }
        int start = i;
        while (i < end) {
            byte c = b[i];
            if (c == LF || c == CR) {
                if (lineLength == 0) {
                    line(b, start, i);
                } else {
                    append(b, start, i);
                    line(line, 0, lineLength);
                    lineLength = 0;
                }
                if (c == CR) {
                    if (i + 1 < end) {
                        if (b[i + 1] == LF) {
                            i++;
                        }
                    } else {
                        afterCr = true;
                    }
                }
                start = ++i;
            } else {
                i++;
            }
        }
        if (start < end) {
            append(b, start, end);
        }
    }

    private void append(byte[] b, int from, int to) {
        int n = to - from;
        if (n > maxEventSize - lineLength) {
            throw new LimitExceededException("a line", maxEventSize);
        }
        if (lineLength + n > line.length) {
            line = java.util.Arrays.copyOf(line, Math.max(line.length * 2, lineLength + n));
        }
        System.arraycopy(b, from, line, lineLength, n);
        lineLength += n;
    }

    /** Processes one complete line, {@code b[from, to)}, without its terminator. */
    private void line(byte[] b, int from, int to) {
        if (to - from > maxEventSize) {
            throw new LimitExceededException("a line", maxEventSize); // it arrived whole within one read
        }
        if (from == to) {
            dispatch();
            return;
        }
        if (b[from] == ':') {
            handler.onComment(decode(b, skipSpace(b, from + 1, to), to));
            return;
        }
        int colon = from;
        while (colon < to && b[colon] != ':') {
            colon++;
        }
        int value = colon < to ? skipSpace(b, colon + 1, to) : to;
        switch (colon - from) {
            case 4 -> {
                if (is(b, from, 'd', 'a', 't', 'a')) {
                    appendData(b, value, to);
                }
            }
            case 2 -> {
                if (b[from] == 'i' && b[from + 1] == 'd') {
                    setId(b, value, to);
                }
            }
            case 5 -> {
                if (is(b, from, 'e', 'v', 'e', 'n') && b[from + 4] == 't') {
                    eventType = decode(b, value, to);
                } else if (is(b, from, 'r', 'e', 't', 'r') && b[from + 4] == 'y') {
                    retry(b, value, to);
                }
            }
            default -> {
                // any other field name is ignored (WHATWG 9.2.6)
            }
        }
    }

    private static boolean is(byte[] b, int at, char c0, char c1, char c2, char c3) {
        return b[at] == c0 && b[at + 1] == c1 && b[at + 2] == c2 && b[at + 3] == c3;
    }

    private static int skipSpace(byte[] b, int at, int to) {
        return at < to && b[at] == ' ' ? at + 1 : at;
    }

    private void appendData(byte[] b, int from, int to) {
        int n = to - from;
        if (n + 1 > maxEventSize - dataLength) {
            throw new LimitExceededException("an event's data", maxEventSize);
        }
        if (dataLength + n + 1 > data.length) {
            data = java.util.Arrays.copyOf(data, Math.max(data.length * 2, dataLength + n + 1));
        }
        System.arraycopy(b, from, data, dataLength, n);
        dataLength += n;
        data[dataLength++] = LF;
    }

    private void setId(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] == 0) {
                return; // an id containing NULL is ignored
            }
        }
        idBuffer = decode(b, from, to);
    }

    private void retry(byte[] b, int from, int to) {
        if (from == to) {
            return;
        }
        long millis = 0;
        for (int i = from; i < to; i++) {
            int d = b[i] - '0';
            if (d < 0 || d > 9) {
                return;
            }
            millis = millis > (Long.MAX_VALUE - d) / 10 ? Long.MAX_VALUE : millis * 10 + d;
        }
        handler.onRetry(Duration.ofMillis(millis));
    }

    private void dispatch() {
        lastEventId = idBuffer;
        if (dataLength == 0) {
            eventType = "";
            return;
        }
        String text = Utf8.decode(data, 0, dataLength - 1);
        String type = eventType.isEmpty() ? "message" : eventType;
        dataLength = 0;
        eventType = "";
        if (data.length > 64 * 1024) {
            data = new byte[128]; // do not keep one huge event's buffer alive
        }
        handler.onEvent(new SseEvent(lastEventId, type, text));
    }

    private static String decode(byte[] b, int from, int to) {
        return from == to ? "" : Utf8.decode(b, from, to);
    }
}
