package dev.ssekit.testkit;

import java.util.List;

/**
 * The WHATWG interpretation rules (HTML 9.2.6) and web-platform-tests cases as a table of wire →
 * transcript, written with LF line ends. Shared by the parser's tests and the client's (through
 * the core test-jar), so every case runs through the parser alone and through the client over HTTP.
 */
public final class WhatwgCases {

    private WhatwgCases() {
    }

    /**
     * Every case three times, with LF, CR and CRLF line ends, as JUnit arguments
     * {@code (name, wire, case)}.
     *
     * @return the arguments
     */
    public static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> withEachLineEnd() {
        java.util.List<org.junit.jupiter.params.provider.Arguments> out = new java.util.ArrayList<>();
        for (Case c : TABLE) {
            out.add(org.junit.jupiter.params.provider.Arguments.of(c.name() + " [LF]", c.wire(), c));
            out.add(org.junit.jupiter.params.provider.Arguments.of(c.name() + " [CR]", c.wire().replace('\n', '\r'), c));
            out.add(org.junit.jupiter.params.provider.Arguments.of(c.name() + " [CRLF]", c.wire().replace("\n", "\r\n"), c));
        }
        return out.stream();
    }

    public record Case(String name, String wire, List<String> expected, String lastEventId) {
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

    public static final List<Case> TABLE = List.of(
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

}
