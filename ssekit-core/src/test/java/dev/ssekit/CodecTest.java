package dev.ssekit;

import dev.ssekit.codec.SseEncoder;
import dev.ssekit.codec.SseParser;
import dev.ssekit.testkit.Recorder;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CodecTest {

    private static String wire(SseMessage m) {
        return new String(m.encode(), UTF_8);
    }

    @Test
    void fieldOrderIsIdEventDataRetry() {
        SseMessage m = SseMessage.builder().retry(Duration.ofSeconds(3)).data("d").event("e").id("7").build();
        assertThat(wire(m)).isEqualTo("id: 7\nevent: e\ndata: d\nretry: 3000\n\n");
    }

    @Test
    void dataOnlyMatchesTheReferenceBytes() {
        assertThat(wire(SseMessage.of("ping"))).isEqualTo("data: ping\n\n");
    }

    @Test
    void absentFieldsAreOmitted() {
        assertThat(wire(SseMessage.builder().event("x").build())).isEqualTo("event: x\n\n");
        assertThat(wire(SseMessage.builder().id("1").build())).isEqualTo("id: 1\n\n");
        assertThat(wire(SseMessage.builder().retry(Duration.ZERO).build())).isEqualTo("retry: 0\n\n");
    }

    @Test
    void emptyDataIsStillWritten() {
        assertThat(wire(SseMessage.of(""))).isEqualTo("data:\n\n");
        assertThat(wire(SseMessage.builder().event("x").data("").build())).isEqualTo("event: x\ndata:\n\n");
    }

    @Test
    void everyLineBreakInDataStartsADataLine() {
        assertThat(wire(SseMessage.of("a\nb\rc\r\nd"))).isEqualTo("data: a\ndata: b\ndata: c\ndata: d\n\n");
        assertThat(wire(SseMessage.of("\n"))).isEqualTo("data:\ndata:\n\n");
        assertThat(wire(SseMessage.of("a\n\nb"))).isEqualTo("data: a\ndata:\ndata: b\n\n");
        assertThat(wire(SseMessage.of("\r\r\n"))).isEqualTo("data:\ndata:\ndata:\n\n");
        assertThat(wire(SseMessage.of("x\r"))).isEqualTo("data: x\ndata:\n\n");
    }

    @Test
    void injectionThroughDataIsImpossible() {
        String wire = wire(SseMessage.of("a\nevent: evil\nid: 666\n\ndata: injected"));
        Recorder r = new Recorder();
        SseParser.create(r).feed(wire.getBytes(UTF_8));
        assertThat(r.transcript).containsExactly(
                Recorder.event("message", "", "a\nevent: evil\nid: 666\n\ndata: injected"));
    }

    @Test
    void leadingSpaceInDataSurvives() {
        assertThat(wire(SseMessage.of(" x"))).isEqualTo("data:  x\n\n");
    }

    @Test
    void utf8() {
        assertThat(SseMessage.of("é☃😀").encode()).isEqualTo("data: é☃😀\n\n".getBytes(UTF_8));
    }

    @Test
    void comments() {
        assertThat(new String(SseEncoder.comment("hb"), UTF_8)).isEqualTo(": hb\n");
        assertThat(new String(SseEncoder.comment(""), UTF_8)).isEqualTo(":\n");
        assertThat(new String(SseEncoder.comment("a\r\nb\rc\n"), UTF_8)).isEqualTo(": a\n: b\n: c\n:\n");
    }

    @Test
    void builderRejectsInjectionInIdAndEvent() {
        assertThatThrownBy(() -> SseMessage.builder().id("1\n2").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("id").hasMessageContaining("LF");
        assertThatThrownBy(() -> SseMessage.builder().id("1\r").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("id").hasMessageContaining("CR");
        assertThatThrownBy(() -> SseMessage.builder().id("a\0").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("id").hasMessageContaining("NUL");
        assertThatThrownBy(() -> SseMessage.builder().event("a\nb").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("event").hasMessageContaining("LF");
        assertThatThrownBy(() -> SseMessage.builder().event("a\rb").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("event").hasMessageContaining("CR");
        // NUL is allowed in an event type: it cannot inject anything
        assertThat(wire(SseMessage.builder().event("a\0b").build())).isEqualTo("event: a\0b\n\n");
    }

    @Test
    void builderRejectsBadRetryAndEmptyMessages() {
        assertThatThrownBy(() -> SseMessage.builder().retry(Duration.ofMillis(-1)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("retry").hasMessageContaining("PT-0.001S");
        assertThatThrownBy(() -> SseMessage.builder().retry(Duration.ofSeconds(Long.MAX_VALUE)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("retry");
        assertThatThrownBy(() -> SseMessage.builder().build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("none is set");
        assertThatThrownBy(() -> SseMessage.builder().data(null))
                .isInstanceOf(NullPointerException.class).hasMessage("data");
    }

    @Test
    void retryIsWrittenInWholeMilliseconds() {
        assertThat(wire(SseMessage.builder().retry(Duration.ofNanos(2_500_000)).build())).isEqualTo("retry: 2\n\n");
    }

    @Test
    void valueSemantics() {
        SseMessage a = SseMessage.builder().id("1").data("x").build();
        SseMessage b = SseMessage.builder().id("1").data("x").build();
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a.id()).contains("1");
        assertThat(a.event()).isEmpty();
        assertThat(a.retry()).isEmpty();
        assertThat(a.toString()).isEqualTo("SseMessage{id=1, data=x}");
    }
}
