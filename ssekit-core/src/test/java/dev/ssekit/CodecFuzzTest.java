package dev.ssekit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import dev.ssekit.codec.SseEvent;
import dev.ssekit.codec.SseParser;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile input for the codec (issue #9): arbitrary bytes, arbitrary splits, very long lines and
 * runs of CRs, and field values that would inject other fields.
 */
class CodecFuzzTest {

    /** Bytes that matter to the parser, mixed with random ones (invalid UTF-8, a BOM, NUL). */
    @Provide
    Arbitrary<byte[]> streams() {
        Arbitrary<byte[]> tokens = Arbitraries.oneOf(
                Arbitraries.of("data", "id", "event", "retry", "data:", ": ", ":", " ", "\r", "\n", "\r\n", "1", "x",
                        "é", "\uFEFF", "\0").map(s -> s.getBytes(UTF_8)),
                Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(4));
        return tokens.list().ofMaxSize(200).map(list -> {
            int n = list.stream().mapToInt(b -> b.length).sum();
            byte[] out = new byte[n];
            int i = 0;
            for (byte[] b : list) {
                System.arraycopy(b, 0, out, i, b.length);
                i += b.length;
            }
            return out;
        });
    }

    /** What a parser reports: events, comments and retries, in order, as text. */
    private static List<String> parse(byte[] stream, int[] cuts) {
        List<String> out = new ArrayList<>();
        SseParser p = SseParser.create(new SseParser.Handler() {
            @Override
            public void onEvent(SseEvent e) {
                out.add("event " + e.type() + "|" + e.id() + "|" + e.data());
            }

            @Override
            public void onComment(String c) {
                out.add("comment " + c);
            }

            @Override
            public void onRetry(java.time.Duration d) {
                out.add("retry " + d.toMillis());
            }
        });
        int from = 0;
        for (int cut : Arrays.stream(cuts).map(c -> Math.floorMod(c, stream.length + 1)).sorted().toArray()) {
            p.feed(stream, from, Math.max(0, cut - from));
            from = Math.max(from, cut);
        }
        p.feed(stream, from, stream.length - from);
        out.add("last id " + p.lastEventId());
        return out;
    }

    @Property(tries = 3000)
    void arbitraryBytesNeverThrowAndReadTheSameHoweverTheyAreSplit(@ForAll("streams") byte[] stream,
            @ForAll @Size(max = 12) List<@IntRange(min = 0, max = 100_000) Integer> cuts) {
        List<String> whole = parse(stream, new int[0]);
        List<String> pieces = parse(stream, cuts.stream().mapToInt(Integer::intValue).toArray());
        assertThat(pieces).isEqualTo(whole);
    }

    @Property(tries = 1000)
    void fieldValuesThatWouldInjectAreRefusedWithTheFieldNamed(@ForAll("injections") String value) {
        assertThatIllegalArgumentException().isThrownBy(() -> SseMessage.builder().id(value).build()).withMessageContaining("id");
        assertThatIllegalArgumentException().isThrownBy(() -> SseMessage.builder().event(value).build()).withMessageContaining("event");
        // in data a line break only starts another data line: parsed back, it is the same data
        List<SseEvent> got = new ArrayList<>();
        SseParser.create(got::add).feed(SseMessage.of(value).encode());
        assertThat(got).singleElement().extracting(SseEvent::data)
                .isEqualTo(value.replace("\r\n", "\n").replace('\r', '\n'));
    }

    @Provide
    Arbitrary<String> injections() {
        Arbitrary<String> text = Arbitraries.strings().withChars("abc: ").ofMaxLength(5);
        return net.jqwik.api.Combinators.combine(text, Arbitraries.of("\r", "\n", "\r\n"), Arbitraries.of("data: evil", "id: 6",
                "event: x", "retry: 1", ""), text).as((a, br, field, b) -> a + br + field + b);
    }

    @Test
    @Timeout(20) // linear: well under a second here; a quadratic parser would take hours
    void aTenMegabyteLineParsesInOnePass() {
        int size = 10 << 20;
        byte[] stream = new byte[size + 8];
        byte[] head = "data: ".getBytes(UTF_8);
        System.arraycopy(head, 0, stream, 0, head.length);
        Arrays.fill(stream, head.length, size, (byte) 'x');
        stream[size] = '\n';
        stream[size + 1] = '\n';
        List<SseEvent> got = new ArrayList<>();
        SseParser p = SseParser.create(got::add);
        for (int i = 0; i < size + 2; i += 8192) {
            p.feed(stream, i, Math.min(8192, size + 2 - i));
        }
        assertThat(got).singleElement().satisfies(e -> assertThat(e.data()).hasSize(size - head.length));
    }

    @Test
    @Timeout(20)
    void tenMillionCarriageReturnsAreTenMillionEmptyLines() {
        byte[] crs = new byte[10_000_000];
        Arrays.fill(crs, (byte) '\r');
        List<SseEvent> got = new ArrayList<>();
        SseParser p = SseParser.create(got::add);
        p.feed("data: a\r".getBytes(UTF_8));
        for (int i = 0; i < crs.length; i += 65536) {
            p.feed(crs, i, Math.min(65536, crs.length - i));
        }
        // the first CR after "data: a" dispatches "a"; the rest are blank lines with nothing to dispatch
        assertThat(got).extracting(SseEvent::data).containsExactly("a");
    }

    @Test
    @Timeout(20)
    void aTenMegabyteDataValueOfManyLinesEncodesAndParsesInOnePass() {
        String data = "line\r\n".repeat(1 << 20) + "end"; // 6 MiB, a million CRLFs
        byte[] frame = SseMessage.of(data).encode();
        List<SseEvent> got = new ArrayList<>();
        SseParser.create(got::add).feed(frame);
        assertThat(got).singleElement().satisfies(e -> assertThat(e.data()).isEqualTo(data.replace("\r\n", "\n")));
    }
}
