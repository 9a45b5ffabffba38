package dev.ssekit;

import dev.ssekit.codec.SseParser;
import dev.ssekit.testkit.Recorder;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Encode then parse is the identity on messages (with every line break in data read back as LF, as
 * the WHATWG rules define), whatever the content and however the bytes are split into reads.
 */
class CodecRoundTripTest {

    private static final String[] SAFE = {"a", "b", "Z", "0", " ", "  ", "\t", ":", ": ", "é", "日本", "😀", "\uFEFF",
            "data: x", "id: 1", "event", "retry: 5", "\0"};
    private static final String[] BREAKS = {"\n", "\r", "\r\n", "\n\n", "\r\r"};

    private static Arbitrary<String> text(boolean breaks, boolean nul) {
        List<String> tokens = new ArrayList<>(List.of(SAFE));
        if (!nul) {
            tokens.remove("\0");
        }
        if (breaks) {
            tokens.addAll(List.of(BREAKS));
        }
        return Arbitraries.of(tokens).list().ofMaxSize(12).map(l -> String.join("", l));
    }

    @Provide
    Arbitrary<List<SseMessage>> messages() {
        Arbitrary<SseMessage> message = Combinators.combine(
                text(false, false).injectNull(0.5),
                text(false, true).injectNull(0.6),
                text(true, true).injectNull(0.15),
                Arbitraries.longs().between(0, 100_000).injectNull(0.85))
                .filter((id, event, data, retry) -> id != null || event != null || data != null || retry != null)
                .as((id, event, data, retry) -> {
                    SseMessage.Builder b = SseMessage.builder();
                    if (id != null) {
                        b.id(id);
                    }
                    if (event != null) {
                        b.event(event);
                    }
                    if (data != null) {
                        b.data(data);
                    }
                    if (retry != null) {
                        b.retry(Duration.ofMillis(retry));
                    }
                    return b.build();
                });
        return message.list().ofMinSize(1).ofMaxSize(8);
    }

    @Property(tries = 2000)
    void encodeThenParseGivesTheSameEvents(@ForAll("messages") List<SseMessage> messages,
            @ForAll("pieceSizes") List<Integer> pieces) {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        List<String> expected = new ArrayList<>();
        String lastId = "";
        for (SseMessage m : messages) {
            wire.writeBytes(m.encode());
            if (m.id().isPresent()) {
                lastId = m.id().get();
            }
            if (m.retry().isPresent()) {
                expected.add("retry " + m.retry().get().toMillis());
            }
            if (m.data().isPresent()) {
                String type = m.event().filter(e -> !e.isEmpty()).orElse("message");
                String data = m.data().get().replace("\r\n", "\n").replace('\r', '\n');
                expected.add(Recorder.event(type, lastId, data));
            }
        }
        byte[] bytes = wire.toByteArray();
        Recorder r = new Recorder();
        SseParser parser = SseParser.create(r);
        int at = 0;
        for (int i = 0; at < bytes.length; i++) {
            int n = Math.min(bytes.length - at, pieces.get(i % pieces.size()));
            parser.feed(bytes, at, n);
            at += n;
        }
        assertThat(r.transcript).containsExactlyElementsOf(expected);
        assertThat(parser.lastEventId()).isEqualTo(lastId);
    }

    @Provide
    Arbitrary<List<Integer>> pieceSizes() {
        return Arbitraries.integers().between(1, 64).list().ofMinSize(1).ofMaxSize(10);
    }
}
