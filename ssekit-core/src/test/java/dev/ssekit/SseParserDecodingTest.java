package dev.ssekit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ssekit.codec.SseParser;
import dev.ssekit.testkit.Recorder;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue #17: the parser decodes as the WHATWG Encoding Standard's UTF-8 decoder does (one U+FFFD
 * per maximal subpart of an ill-formed sequence, Unicode 3.9 "U+FFFD Substitution of Maximal
 * Subparts"), where the JDK's decoder differs; and it bounds a line and an event's data.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SseParserDecodingTest {

    private static final String R = "\uFFFD";

    static Stream<Arguments> malformed() {
        return Stream.of(
                // surrogates: ED is only followed by 80..9F, so A0 is not part of its subpart
                Arguments.of("ed a0 80", R + R + R),
                Arguments.of("ed bf bf", R + R + R),
                Arguments.of("ed 9f bf", "\uD7FF"),
                // overlongs: C0 and C1 never start a sequence; E0 needs A0..BF; F0 needs 90..BF
                Arguments.of("c0 af", R + R),
                Arguments.of("e0 80 af", R + R + R),
                Arguments.of("f0 80 80 af", R + R + R + R),
                // beyond U+10FFFF: F4 needs 80..8F; F5..FF never start one
                Arguments.of("f4 90 80 80", R + R + R + R),
                Arguments.of("f5 80 80 80", R + R + R + R),
                Arguments.of("ff", R),
                // lone continuation bytes, one each
                Arguments.of("80 bf", R + R),
                // a truncated sequence is one maximal subpart, whatever follows it
                Arguments.of("e1 80 78", R + "x"),
                Arguments.of("f1 80 80", R),
                Arguments.of("f1 80 80 e1 80 c2", R + R + R),
                // Unicode 16, table 3-8 (the WHATWG decoder gives the same)
                Arguments.of("61 f1 80 80 e1 80 c2 62 80 63 80 bf 64", "a" + R + R + R + "b" + R + "c" + R + R + "d"),
                // well-formed: every length, and the edges of the ranges
                Arguments.of("c3 a9 e2 98 83 f0 9f 98 80", "é☃😀"),
                Arguments.of("f4 8f bf bf", "\uDBFF\uDFFF"),
                Arguments.of("e0 a0 80", "\u0800"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void decodesLikeTheWhatwgDecoderInDataIdEventAndComments(String hex, String expected) {
        byte[] bad = HexFormat.ofDelimiter(" ").parseHex(hex);
        byte[] wire = concat(ascii("id: "), bad, ascii("\nevent: "), bad, ascii("\ndata: "), bad, ascii("\n: "), bad,
                ascii("\n\n"));
        for (int piece : new int[] {wire.length, 1, 2}) {
            Recorder r = new Recorder();
            SseParser p = SseParser.create(r);
            for (int i = 0; i < wire.length; i += piece) {
                p.feed(wire, i, Math.min(piece, wire.length - i));
            }
            assertThat(r.transcript).as("fed in pieces of %d", piece)
                    .containsExactly("comment " + Recorder.show(expected), Recorder.event(expected, expected, expected));
        }
    }

    @Test
    void theJdkDecoderDiffersHenceOurOwn() {
        // the reason for the parser's own decoder: the JDK gives one U+FFFD for ED A0 80
        assertThat(new String(HexFormat.of().parseHex("eda080"), StandardCharsets.UTF_8)).isNotEqualTo(R + R + R);
    }

    @Test
    void aLineLongerThanTheBoundFailsWhetherItArrivesWholeOrInPieces() {
        for (int piece : new int[] {1, 7, 100_000}) {
            SseParser p = SseParser.create(new Recorder(), "", 1024);
            byte[] line = ascii("data: " + "x".repeat(1018)); // 1024 bytes: at the bound, accepted
            feed(p, concat(line, ascii("\n\n")), piece);
            byte[] tooLong = ascii(":" + "x".repeat(1024)); // 1025 bytes, never ended
            assertThatThrownBy(() -> feed(p, tooLong, piece))
                    .isInstanceOfSatisfying(SseParser.LimitExceededException.class, e -> {
                        assertThat(e.limit()).isEqualTo(1024);
                        assertThat(e).hasMessageContaining("line").hasMessageContaining("1024");
                    });
        }
    }

    @Test
    void anEventLargerThanTheBoundFailsAndResetMakesTheParserUsableAgain() {
        Recorder r = new Recorder();
        SseParser p = SseParser.create(r, "", 1024);
        byte[] chunk = ascii("data: " + "y".repeat(99) + "\n"); // 100 data bytes with its LF
        for (int i = 0; i < 10; i++) {
            p.feed(chunk);
        }
        assertThatThrownBy(() -> p.feed(chunk)).isInstanceOfSatisfying(SseParser.LimitExceededException.class,
                e -> assertThat(e).hasMessageContaining("event").hasMessageContaining("1024"));
        p.reset();
        p.feed(ascii("data: ok\n\n"));
        assertThat(r.transcript).containsExactly(Recorder.event("message", "", "ok"));
        assertThatThrownBy(() -> SseParser.create(r, "", 0)).hasMessage("maxEventSize must be positive: 0");
    }

    private static void feed(SseParser p, byte[] wire, int piece) {
        for (int i = 0; i < wire.length; i += piece) {
            p.feed(wire, i, Math.min(piece, wire.length - i));
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
