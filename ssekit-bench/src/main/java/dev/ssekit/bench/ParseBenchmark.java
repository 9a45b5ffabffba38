package dev.ssekit.bench;

import dev.ssekit.SseMessage;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.codec.SseParser;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Parsing a large stream (8 MiB), fed in network-sized reads, on one thread: what a client pays
 * per byte. MB/s = ops/s × 8 MiB. Every event is materialized as {@link SseEvent} (strings
 * decoded), so this is the whole cost a client sees.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ParseBenchmark {

    static final int STREAM_BYTES = 8 * 1024 * 1024;

    /** small: 100-byte data events with id and type; large: 4 KiB multi-line events. */
    @Param({"small", "large"})
    public String events;

    @Param({"8192"})
    public int readSize;

    private byte[] stream;
    private SseParser parser;
    private Blackhole blackhole;

    @Setup(Level.Trial)
    public void setUp(Blackhole bh) {
        blackhole = bh;
        ByteArrayOutputStream out = new ByteArrayOutputStream(STREAM_BYTES + 8192);
        long i = 0;
        while (out.size() < STREAM_BYTES) {
            SseMessage m = events.equals("small")
                    ? SseMessage.builder().id(Long.toString(i)).event("quote").data(EncodeBenchmark.DATA_100).build()
                    : SseMessage.of((EncodeBenchmark.DATA_100 + "\n").repeat(40));
            out.writeBytes(m.encode());
            if (i % 50 == 0) {
                out.writeBytes(": heartbeat\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            i++;
        }
        stream = java.util.Arrays.copyOf(out.toByteArray(), STREAM_BYTES);
        parser = SseParser.create(new SseParser.Handler() {
            @Override
            public void onEvent(SseEvent event) {
                blackhole.consume(event);
            }

            @Override
            public void onComment(String comment) {
                blackhole.consume(comment);
            }
        });
    }

    @Benchmark
    public void parse8MiB() {
        for (int at = 0; at < stream.length; at += readSize) {
            parser.feed(stream, at, Math.min(readSize, stream.length - at));
        }
        parser.reset();
    }
}
