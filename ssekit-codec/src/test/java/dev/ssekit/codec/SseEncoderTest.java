package dev.ssekit.codec;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The encoder on its own, without the server's {@code SseMessage}: the validation rules and the
 * wire form, and that this module's parser reads back what its encoder writes. (The message-level
 * tests, the WHATWG table and the fuzzing run in ssekit-core, whose test kit the client shares.)
 */
class SseEncoderTest {

    private static String wire(String id, String event, String data, Duration retry) {
        return new String(SseEncoder.encode(id, event, data, retry), UTF_8);
    }

    private static List<SseEvent> parse(byte[] wire) {
        List<SseEvent> events = new ArrayList<>();
        SseParser.create(events::add).feed(wire);
        return events;
    }

    @Test
    void writesFieldsInOrderAndLeavesOutAbsentOnes() {
        assertThat(wire("7", "e", "d", Duration.ofSeconds(3))).isEqualTo("id: 7\nevent: e\ndata: d\nretry: 3000\n\n");
        assertThat(wire(null, null, "ping", null)).isEqualTo("data: ping\n\n");
        assertThat(wire(null, "x", null, null)).isEqualTo("event: x\n\n");
        assertThat(wire(null, null, null, Duration.ofNanos(2_500_000))).isEqualTo("retry: 2\n\n");
        assertThat(wire(null, null, "", null)).isEqualTo("data:\n\n");
    }

    @Test
    void everyLineBreakInDataIsADataLineAndReadsBackAsLf() {
        byte[] wire = SseEncoder.encode("1", null, "a\nevent: evil\rid: 666\r\n\r\ndata: x", null);
        assertThat(new String(wire, UTF_8))
                .isEqualTo("id: 1\ndata: a\ndata: event: evil\ndata: id: 666\ndata:\ndata: data: x\n\n");
        assertThat(parse(wire)).containsExactly(new SseEvent("1", "message", "a\nevent: evil\nid: 666\n\ndata: x"));
    }

    @Test
    void roundTripsNonAsciiAndNulInEventTypes() {
        byte[] wire = SseEncoder.encode("é-1", "t\0ype", "é☃😀", null);
        assertThat(parse(wire)).containsExactly(new SseEvent("é-1", "t\0ype", "é☃😀"));
    }

    @Test
    void commentsAreOneLinePerLineAndNeverDispatch() {
        assertThat(new String(SseEncoder.comment("hb"), UTF_8)).isEqualTo(": hb\n");
        assertThat(new String(SseEncoder.comment(""), UTF_8)).isEqualTo(":\n");
        assertThat(new String(SseEncoder.comment("a\r\nb\rc\n"), UTF_8)).isEqualTo(": a\n: b\n: c\n:\n");
        assertThat(parse(SseEncoder.comment("x\n\ndata: injected\n\n"))).isEmpty();
        assertThatThrownBy(() -> SseEncoder.comment(null)).isInstanceOf(NullPointerException.class).hasMessage("text");
    }

    @Test
    void rejectsValuesThatWouldInjectAFieldNamingIt() {
        assertThatThrownBy(() -> SseEncoder.encode("1\n2", null, "d", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("id must not contain CR, LF or NUL: found LF at index 1 in id \"1\\n2\"");
        assertThatThrownBy(() -> SseEncoder.validate("a\0", null, null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("id").hasMessageContaining("NUL");
        assertThatThrownBy(() -> SseEncoder.validate(null, "a\rb", null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("event must not contain CR or LF: found CR at index 1 in event \"a\\rb\"");
        assertThatThrownBy(() -> SseEncoder.validate(null, null, null, Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("retry must not be negative: PT-0.001S");
        assertThatThrownBy(() -> SseEncoder.validate(null, null, null, Duration.ofSeconds(Long.MAX_VALUE)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("retry is too large");
        assertThatThrownBy(() -> SseEncoder.encode(null, null, null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("none is set");
    }

    @Test
    void decodesMalformedUtf8AsTheWhatwgDecoderDoes() {
        // encoded surrogates: one U+FFFD per byte here, where the JDK's decoder gives one in all
        byte[] b = {'a', (byte) 0xED, (byte) 0xA0, (byte) 0x80, 'b'};
        assertThat(Utf8.decode(b, 0, b.length)).isEqualTo("a\uFFFD\uFFFD\uFFFDb");
        assertThat(new String(b, UTF_8)).isNotEqualTo(Utf8.decode(b, 0, b.length));
    }
}
