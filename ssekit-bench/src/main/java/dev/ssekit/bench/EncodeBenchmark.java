package dev.ssekit.bench;

import dev.ssekit.SseMessage;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Encoding one event, on one thread: the cost the broadcaster pays once per published event. The
 * messages are built once; each call encodes them into a fresh byte array, as {@code send} does.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class EncodeBenchmark {

    /** 100 bytes of JSON-like ASCII data. */
    static final String DATA_100 = "{\"symbol\":\"ACME\",\"price\":1234.5678,\"volume\":987654,\"ts\":1732390000123,\"pad\":\"xxxxxxxxxxxx\"}";

    private final SseMessage dataOnly = SseMessage.of(DATA_100);
    private final SseMessage allFields = SseMessage.builder().id("1732390000123-42").event("quote").data(DATA_100).build();
    private final SseMessage multiLine = SseMessage.of(DATA_100.substring(0, 30) + "\n" + DATA_100.substring(30, 60) + "\r\n"
            + DATA_100.substring(60));
    private final SseMessage unicode = SseMessage.of("{\"name\":\"Grüße aus Köln\",\"city\":\"日本語のテキスト\",\"emoji\":\"😀😀\",\"n\":12345678}");

    @Benchmark
    public byte[] data100() {
        return dataOnly.encode();
    }

    @Benchmark
    public byte[] idEventData100() {
        return allFields.encode();
    }

    @Benchmark
    public byte[] multiLine100() {
        return multiLine.encode();
    }

    @Benchmark
    public byte[] unicodeData() {
        return unicode.encode();
    }
}
