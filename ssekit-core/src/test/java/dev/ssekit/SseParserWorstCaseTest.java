package dev.ssekit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ssekit.codec.SseEvent;
import dev.ssekit.codec.SseParser;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The event stream parser at its worst (issue #17, "every input time-bounded"): what a hostile
 * server can send a client whose parser is bounded by {@code maxEventSize}. Nothing here measures
 * time. The bounds asserted are structural: the parser either takes a stream or refuses it with
 * {@link SseParser.LimitExceededException} as soon as a line or an event's data passes the bound,
 * and what it hands the application (data, types, comments) never holds more characters than the
 * stream had bytes. The inputs are sized so that a parser that rescanned its buffered line on
 * every read would need hours; the preemptive timeout is the hang guard.
 *
 * <p>{@link #worstCases} are the streams {@code InputWorstCaseTest} (ssekit-hub) measures.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SseParserWorstCaseTest {

    private static final int BOUND = 64 * 1024;

    /** Counts what the parser delivers. */
    static final class Tally implements SseParser.Handler {
        long events;
        long comments;
        long retries;
        /**
         * Characters of data, types and comments delivered; not the default type {@code message}
         * (a constant) nor ids (the same string is reported with each event until a new id).
         */
        long chars;

        @Override
        public void onEvent(SseEvent e) {
            events++;
            chars += e.data().length() + (e.type().equals("message") ? 0 : e.type().length());
        }

        @Override
        public void onComment(String c) {
            comments++;
            chars += c.length();
        }

        @Override
        public void onRetry(Duration d) {
            retries++;
        }
    }

    /**
     * Streams of about {@code size} bytes that are each the worst of one kind for a parser bounded
     * by {@code size}: every line and every event's data within the bound.
     *
     * @return name and stream, alternating
     */
    static Object[] worstCases(int size) {
        int half = size / 2;
        return new Object[] {
            "one data line at the bound", ("data:" + "x".repeat(size - 6) + "\n\n").getBytes(UTF_8),
            "tiny events (data:x, blank line)", "data:x\n\n".repeat(size / 8).getBytes(UTF_8),
            "empty data lines, one event", ("data\n".repeat(size / 5 - 1) + "\n").getBytes(UTF_8),
            "lone CRs (each ends a line)", "\r".repeat(size).getBytes(UTF_8),
            "comment lines", ":c\n".repeat(size / 3).getBytes(UTF_8),
            "ill-formed UTF-8 data (one U+FFFD a byte)", concat("data:".getBytes(UTF_8), filled(size - 8, (byte) 0xED, (byte) 0xA0),
                    "\n\n".getBytes(UTF_8)),
            "id lines (an id with NUL is scanned, then ignored)", ("id:" + "7".repeat(half) + "\0\n").repeat(2).getBytes(UTF_8),
            "retry of digits beyond a long", ("retry:" + "9".repeat(size - 8) + "\n").getBytes(UTF_8),
        };
    }

    @Test
    void everyWorstCaseAtTheBoundIsTakenWholeAndByteByByte() {
        Object[] cases = worstCases(BOUND);
        for (int i = 0; i < cases.length; i += 2) {
            byte[] stream = (byte[]) cases[i + 1];
            Tally whole = new Tally();
            SseParser.create(whole, "", BOUND).feed(stream);
            Tally bytes = new Tally();
            SseParser parser = SseParser.create(bytes, "", BOUND);
            for (int k = 0; k < stream.length; k++) {
                parser.feed(stream, k, 1);
            }
            assertThat(bytes.events).as("%s: events", cases[i]).isEqualTo(whole.events);
            assertThat(bytes.chars).as("%s: characters", cases[i]).isEqualTo(whole.chars).isLessThanOrEqualTo(stream.length);
        }
    }

    /**
     * A line that never ends, one byte a read: refused at the byte past the bound, having cost one
     * copy of each byte (a parser that looked for the line end from the line's start on every read
     * would take BOUND²/2 steps for it, and the 8 MiB default of the client's {@code maxEventSize}
     * squared is 3 × 10^13).
     */
    @Test
    void aLineThatNeverEndsIsRefusedAtTheBoundWhateverTheReads() {
        int bound = 1 << 20;
        byte[] x = {'x'};
        for (String prefix : new String[] {"data:", ":", "id:", "retry:", "unknown:"}) {
            SseParser parser = SseParser.create(new Tally(), "", bound);
            parser.feed(prefix.getBytes(UTF_8));
            for (int i = prefix.length(); i < bound; i++) {
                parser.feed(x);
            }
            assertThatThrownBy(() -> parser.feed(x)).as(prefix).isInstanceOf(SseParser.LimitExceededException.class);
        }
        SseParser data = SseParser.create(new Tally(), "", bound);
        byte[] line = ("data:" + "y".repeat(1023) + "\n").getBytes(UTF_8); // 1 KiB of data per line, no blank line
        assertThatThrownBy(() -> {
            for (int i = 0; i < bound; i++) {
                data.feed(line);
            }
        }).isInstanceOf(SseParser.LimitExceededException.class).hasMessageContaining("an event's data");
    }

    /**
     * Random streams built from the tokens that steer the parser (field names, colons, every line
     * end, BOMs, NUL, ill-formed UTF-8 and long runs of one byte), up to four times the bound, cut
     * into random reads: each is either taken, delivering no more characters than it had bytes, or
     * refused with {@link SseParser.LimitExceededException}, the same whatever the cuts.
     */
    @Test
    void randomStreamsAreTakenOrRefusedAndNeverAmplified() {
        SplittableRandom random = new SplittableRandom(1712);
        String[] tokens = {"data:", "data: ", "id:", "event:", "retry:", ":", " ", "\r", "\n", "\r\n", "\n\n", "1", "x", "é", "\uFEFF", "\0"};
        int refused = 0;
        for (int i = 0; i < 150; i++) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int target = random.nextInt(4 * BOUND);
            while (out.size() < target) {
                int kind = random.nextInt(10);
                if (kind == 0) {
                    byte b = (byte) random.nextInt(256);
                    out.writeBytes(filled(1 + random.nextInt(BOUND + 1), b));
                } else if (kind == 1) {
                    out.write(random.nextInt(256));
                } else {
                    out.writeBytes(tokens[random.nextInt(tokens.length)].getBytes(UTF_8));
                }
            }
            byte[] stream = out.toByteArray();
            String whole = outcome(stream, new int[0]);
            int[] cuts = random.ints(random.nextInt(16), 0, stream.length + 1).sorted().toArray();
            assertThat(outcome(stream, cuts)).as("stream #%d cut at %s", i, java.util.Arrays.toString(cuts)).isEqualTo(whole);
            refused += whole.startsWith("refused") ? 1 : 0;
        }
        assertThat(refused).as("streams over the bound among the random ones").isBetween(5, 145);
    }

    /** "taken N events, C chars" or "refused after N events", checking the character bound. */
    private static String outcome(byte[] stream, int[] cuts) {
        Tally tally = new Tally();
        SseParser parser = SseParser.create(tally, "", BOUND);
        int from = 0;
        try {
            for (int cut : cuts) {
                parser.feed(stream, from, cut - from);
                from = cut;
            }
            parser.feed(stream, from, stream.length - from);
        } catch (SseParser.LimitExceededException e) {
            assertThat(tally.chars).isLessThanOrEqualTo(stream.length);
            return "refused after " + tally.events + " events";
        }
        assertThat(tally.chars).isLessThanOrEqualTo(stream.length);
        return "taken " + tally.events + " events, " + tally.chars + " chars";
    }

    private static byte[] filled(int n, byte... pattern) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = pattern[i % pattern.length];
        }
        return b;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
