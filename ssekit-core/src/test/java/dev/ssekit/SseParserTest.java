package dev.ssekit;

import dev.ssekit.codec.SseParser;
import dev.ssekit.testkit.Recorder;
import dev.ssekit.testkit.WhatwgCases;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The WHATWG interpretation rules (HTML 9.2.6), as a table of wire → transcript cases. Each case of
 * {@link WhatwgCases#TABLE} is written with LF and run with LF, CR and CRLF line ends; each run feeds the
 * stream whole, one byte at a time, and in random pieces, and must give the same transcript.
 */
class SseParserTest {

    private static String msg(String data) {
        return Recorder.event("message", "", data);
    }

    private static String ev(String type, String id, String data) {
        return Recorder.event(type, id, data);
    }

    static Stream<Arguments> cases() {
        return WhatwgCases.withEachLineEnd();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void table(String name, String wire, WhatwgCases.Case c) {
        assertParses(wire, c.expected(), c.lastEventId());
    }

    @Test
    void tableIsLargeEnough() {
        assertThat(WhatwgCases.TABLE).hasSizeGreaterThanOrEqualTo(40);
    }

    /** Mixed line ends: cases copied from web-platform-tests with their exact bytes. */
    @Test
    void wptFormatNewlines() {
        assertParses("data:test\r\ndata\ndata:test\r\n\r\n", List.of(msg("test\n\ntest")), null);
    }

    @Test
    void wptFormatFieldParsing() {
        assertParses("data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n\n",
                List.of(msg("\0\n 2\n1\n3\n\n4")), null);
    }

    @Test
    void wptFormatComments() {
        String longComment = "x".repeat(2048);
        assertParses("data:1\r:\0\n:\r\ndata:2\n:" + longComment + "\rdata:3\n:data:fail\r:" + longComment + "\ndata:4\n\n",
                List.of("comment \"\\0\"", "comment \"\"", "comment \"" + longComment + "\"", "comment \"data:fail\"",
                        "comment \"" + longComment + "\"", msg("1\n2\n3\n4")), null);
    }

    @Test
    void wptFromReadableStreamLineEnds() {
        assertParses("data: cr\r\rdata: lf\n\ndata: crlf\r\n\r\n", List.of(msg("cr"), msg("lf"), msg("crlf")), null);
    }

    @Test
    void crlfSplitAcrossReadsIsOneLineEnd() {
        Recorder r = new Recorder();
        SseParser p = SseParser.create(r);
        p.feed(bytes("data: a\r"));
        p.feed(bytes("\ndata: b\r"));
        p.feed(bytes("\n\r"));
        p.feed(bytes("\n"));
        assertThat(r.transcript).containsExactly(msg("a\nb"));
    }

    @Test
    void emptyReadBetweenCrAndLfKeepsTheCr() {
        Recorder r = new Recorder();
        SseParser p = SseParser.create(r);
        p.feed(bytes("data: a\r"));
        p.feed(new byte[0]);
        p.feed(bytes("\n\r"));
        p.feed(new byte[0]);
        p.feed(bytes("\n"));
        assertThat(r.transcript).containsExactly(msg("a"));
    }

    @Test
    void resetDropsThePendingEventAndKeepsTheLastEventId() {
        Recorder r = new Recorder();
        SseParser p = SseParser.create(r);
        p.feed(bytes("id: 1\ndata: a\n\nid: 2\ndata: pending\nevent: x\n"));
        p.reset();
        p.feed(bytes("\uFEFFdata: b\n\n")); // a new stream may begin with its own BOM
        assertThat(r.transcript).containsExactly(ev("message", "1", "a"), ev("message", "1", "b"));
        assertThat(p.lastEventId()).isEqualTo("1");
    }

    @Test
    void initialLastEventIdIsReportedUntilANewOne() {
        Recorder r = new Recorder();
        SseParser p = SseParser.create(r, "41");
        p.feed(bytes("data: a\n\nid: 42\ndata: b\n\n"));
        assertThat(r.transcript).containsExactly(ev("message", "41", "a"), ev("message", "42", "b"));
    }

    @Test
    void malformedUtf8BecomesReplacementCharacter() {
        Recorder r = new Recorder();
        SseParser p = SseParser.create(r);
        p.feed(new byte[] {'d', 'a', 't', 'a', ':', (byte) 0xC3, 'x', (byte) 0xFF, '\n', '\n'});
        assertThat(r.transcript).containsExactly(msg("\uFFFDx\uFFFD"));
    }

    @Test
    void byteBufferFeedsHeapAndDirectBuffers() {
        byte[] wire = bytes("id: 1\ndata: é\n\n");
        for (ByteBuffer buf : List.of(ByteBuffer.wrap(wire), ByteBuffer.allocateDirect(wire.length).put(wire).flip())) {
            Recorder r = new Recorder();
            SseParser p = SseParser.create(r);
            p.feed(buf);
            assertThat(buf.hasRemaining()).isFalse();
            assertThat(r.transcript).containsExactly(ev("message", "1", "é"));
        }
    }

    @Test
    void handlerExceptionPropagatesAndParserStaysUsable() {
        List<String> seen = new ArrayList<>();
        SseParser p = SseParser.create(e -> {
            seen.add(e.data());
            if (e.data().equals("boom")) {
                throw new IllegalStateException("boom");
            }
        });
        // the caller sees the handler's exception
        assertThatThrownBy(() -> p.feed(bytes("data: boom\n\n"))).isInstanceOf(IllegalStateException.class).hasMessage("boom");
        p.feed(bytes("data: next\n\n"));
        assertThat(seen).containsExactly("boom", "next");
    }

    static byte[] bytes(String s) {
        return s.getBytes(UTF_8);
    }

    /** Runs the wire whole, byte by byte and in random pieces; each must give {@code expected}. */
    static void assertParses(String wire, List<String> expected, String lastEventId) {
        byte[] b = bytes(wire);
        List<int[]> splits = new ArrayList<>();
        splits.add(new int[] {b.length});
        int[] ones = new int[b.length];
        Arrays.fill(ones, 1);
        splits.add(ones);
        Random random = new Random(wire.hashCode());
        for (int round = 0; round < 5; round++) {
            List<Integer> pieces = new ArrayList<>();
            int left = b.length;
            while (left > 0) {
                int n = Math.min(left, 1 + random.nextInt(7));
                pieces.add(n);
                left -= n;
            }
            splits.add(pieces.stream().mapToInt(Integer::intValue).toArray());
        }
        for (int[] split : splits) {
            Recorder r = new Recorder();
            SseParser p = SseParser.create(r);
            int at = 0;
            for (int n : split) {
                p.feed(b, at, n);
                at += n;
            }
            p.reset();
            assertThat(r.transcript).as("pieces %s", Arrays.toString(split)).containsExactlyElementsOf(expected);
            if (lastEventId != null) {
                assertThat(p.lastEventId()).isEqualTo(lastEventId);
            }
        }
    }
}
