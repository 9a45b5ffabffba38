package dev.ssekit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

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
 * {@link #TABLE} is written with LF and run with LF, CR and CRLF line ends; each run feeds the
 * stream whole, one byte at a time, and in random pieces, and must give the same transcript.
 */
class SseParserTest {

    record Case(String name, String wire, List<String> expected, String lastEventId) {
    }

    private static Case c(String name, String wire, String... expected) {
        return new Case(name, wire, List.of(expected), null);
    }

    private static Case withId(String name, String wire, String lastEventId, String... expected) {
        return new Case(name, wire, List.of(expected), lastEventId);
    }

    private static String msg(String data) {
        return Recorder.event("message", "", data);
    }

    private static String ev(String type, String id, String data) {
        return Recorder.event(type, id, data);
    }

    static final String LONG = "x".repeat(10_000);

    static final List<Case> TABLE = List.of(
            c("simple data", "data: hello\n\n", msg("hello")),
            c("no space after colon", "data:hello\n\n", msg("hello")),
            c("only one leading space removed", "data:  two\n\n", msg(" two")),
            c("tab is not stripped", "data:\ttab\n\n", msg("\ttab")),
            c("space-only value keeps its second space", "data:  \n\n", msg(" ")),
            c("spec: data lines joined by LF", "data: YHOO\ndata: +2\ndata: 10\n\n", msg("YHOO\n+2\n10")),
            withId("spec: comment, id, id reset, unterminated last block",
                    ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n", "",
                    "comment \"test stream\"", ev("message", "1", "first event"), ev("message", "", "second event")),
            c("spec: bare data fields", "data\n\ndata\ndata\n\ndata:", msg(""), msg("\n")),
            c("spec: two identical events", "data:test\n\ndata: test\n\n", msg("test"), msg("test")),
            c("event type", "event: add\ndata: 73857293\n\n", ev("add", "", "73857293")),
            c("event type reset after dispatch", "event:test\ndata:x\n\ndata:x\n\n", ev("test", "", "x"), msg("x")),
            c("empty event type is message", "event: \ndata:data\n\n", msg("data")),
            c("type reset by a dispatch without data", "event: a\n\ndata: b\n\n", msg("b")),
            c("last event id persists", "id: 1\ndata: 1\n\ndata: 2\n\nid: 2\ndata:3\n\ndata:4\n\n",
                    ev("message", "1", "1"), ev("message", "1", "2"), ev("message", "2", "3"), ev("message", "2", "4")),
            c("bare id resets", "id: 1\ndata: a\n\nid\ndata: b\n\n", ev("message", "1", "a"), ev("message", "", "b")),
            c("empty id resets", "id: 1\ndata: a\n\nid:\ndata: b\n\n", ev("message", "1", "a"), ev("message", "", "b")),
            c("id with NUL ignored", "id: x\0y\ndata: a\n\n", msg("a")),
            c("id with NUL keeps previous id", "id: 1\ndata: a\n\nid: \0\ndata: b\n\n",
                    ev("message", "1", "a"), ev("message", "1", "b")),
            withId("id applied by a dispatch without data", "id: 5\n\ndata: a\n\n", "5", ev("message", "5", "a")),
            withId("id not applied without the blank line", "id: 1\ndata: a\n\nid: 2\n", "1", ev("message", "1", "a")),
            c("retry", "retry: 3000\ndata: x\n\n", "retry 3000", msg("x")),
            c("retry is decimal", "retry:03000\n\n", "retry 3000"),
            c("retry with a letter ignored", "retry: 3000\nretry: 1000x\ndata: x\n\n", "retry 3000", msg("x")),
            c("bare retry ignored", "retry\ndata:test\n\n", msg("test")),
            c("empty retry ignored", "retry:\n\n"),
            c("negative retry ignored", "retry: -1\n\n"),
            c("retry with extra space ignored", "retry:  5\n\n"),
            c("fractional retry ignored", "retry: 5.0\n\n"),
            c("huge retry capped", "retry: 99999999999999999999999\n\n", "retry " + Long.MAX_VALUE),
            c("field names are case-sensitive", "data: a\nData: b\n\n", msg("a")),
            c("leading space makes another field", " data: x\n\n"),
            c("NUL in field name", "data\0: 2\ndata: 1\n\n", msg("1")),
            c("unknown field ignored", "foo: bar\ndata: x\n\n", msg("x")),
            c("line without colon is an unknown field", "justsometext\ndata: x\n\n", msg("x")),
            c("comment", ":comment\ndata: x\n\n", "comment \"comment\"", msg("x")),
            c("comment with space", ": heartbeat\n", "comment \"heartbeat\""),
            c("empty comment", ":\n", "comment \"\""),
            c("unterminated line dropped", "data: x"),
            c("event without blank line dropped", "data: x\n"),
            c("BOM stripped", "\uFEFFdata: bom\n\n", msg("bom")),
            c("WPT format-bom-2: second BOM is a character", "\uFEFF\uFEFFdata:1\n\ndata:2\n\n", msg("2")),
            c("WPT format-bom: BOM inside the stream", "\uFEFFdata:1\n\n\uFEFFdata:2\n\ndata:3\n\n", msg("1"), msg("3")),
            c("unicode", "data: é ü 日本 😀\n\n", msg("é ü 日本 😀")),
            c("NUL in data", "data:\0\n\n", msg("\0")),
            c("extra blank lines", "data: a\n\n\n\ndata: b\n\n", msg("a"), msg("b")),
            c("leading blank lines", "\n\n\ndata: a\n\n", msg("a")),
            c("colons in value", "data: a:b:c\n\n", msg("a:b:c")),
            c("colon in event type", "event:a:b\ndata: x\n\n", ev("a:b", "", "x")),
            c("empty data dispatches", "data:\n\n", msg("")),
            c("WPT event-data", "data:msg\ndata: msg\n\n:\nfalsefield:msg\n\nfalsefield:msg\nData:data\n\ndata\n\ndata:end\n\n",
                    msg("msg\nmsg"), "comment \"\"", msg(""), msg("end")),
            c("WPT format-field-unknown",
                    "data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test\n\n",
                    "comment \"thisisacommentyay\"", msg("test\n\ntest")),
            c("WPT format-leading-space", "data:\ttest\ndata: \ndata:test\n\n", msg("\ttest\n\ntest")),
            c("WPT format-field-data", "data:\n\ndata\ndata\n\ndata:test\n\n", msg(""), msg("\n"), msg("test")),
            c("non-ASCII id", "id: é☃\ndata: x\n\n", ev("message", "é☃", "x")),
            c("non-ASCII event type", "event: ünï\ndata: x\n\n", ev("ünï", "", "x")),
            c("long line", "data: " + LONG + "\n\n", msg(LONG)),
            c("all fields", "id: 7\nevent: ping\ndata: {\"t\":1}\nretry: 10\n\n",
                    "retry 10", ev("ping", "7", "{\"t\":1}")),
            c("V close event", "event: close\ndata: Closing the connection\nretry: -1\n\n",
                    ev("close", "", "Closing the connection")));

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Case c : TABLE) {
            out.add(Arguments.of(c.name + " [LF]", c.wire, c));
            out.add(Arguments.of(c.name + " [CR]", c.wire.replace('\n', '\r'), c));
            out.add(Arguments.of(c.name + " [CRLF]", c.wire.replace("\n", "\r\n"), c));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void table(String name, String wire, Case c) {
        assertParses(wire, c.expected, c.lastEventId);
    }

    @Test
    void tableIsLargeEnough() {
        assertThat(TABLE).hasSizeGreaterThanOrEqualTo(40);
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
        try {
            p.feed(bytes("data: boom\n\n"));
        } catch (IllegalStateException expected) {
            // the caller sees the handler's exception
        }
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
