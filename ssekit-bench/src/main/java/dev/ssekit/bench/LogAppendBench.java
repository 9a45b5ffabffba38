package dev.ssekit.bench;

import dev.ssekit.Broadcaster;
import dev.ssekit.SseMessage;
import dev.ssekit.Ticker;
import dev.ssekit.spi.EventLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * Appends per second into a durable event log with fsync on ({@code EventLog.file(…, fsync=true)}):
 * {@code P} publisher threads call {@link Broadcaster#publish} in a loop for {@code S} seconds
 * (after one second of warm-up), 100-byte events, no subscribers. With group commit, concurrent
 * publishes share a write and a force. Arguments: {@code [seconds=5] [publishers…=1 16]}; the log
 * lives in a fresh temporary directory (pass {@code -Djava.io.tmpdir} to pick the device).
 */
public final class LogAppendBench {

    private LogAppendBench() {
    }

    /**
     * Runs the measurement and prints one line per publisher count.
     *
     * @param args seconds, then publisher counts
     * @throws Exception if the log cannot be opened
     */
    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        List<Integer> counts = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            counts.add(Integer.parseInt(args[i]));
        }
        if (counts.isEmpty()) {
            counts = List.of(1, 16);
        }
        String data = "x".repeat(100);
        for (int publishers : counts) {
            Path dir = Files.createTempDirectory("ssekit-log-bench");
            EventLog log = EventLog.file(dir, 10_000, 16L << 20, Duration.ofHours(1), Ticker.system(), true);
            try (Broadcaster b = Broadcaster.builder().log(log).build()) {
                LongAdder done = new LongAdder();
                long warm = System.nanoTime() + 1_000_000_000L;
                long end = warm + seconds * 1_000_000_000L;
                long[] counted = new long[1];
                List<Thread> threads = new ArrayList<>();
                for (int p = 0; p < publishers; p++) {
                    threads.add(Thread.ofPlatform().start(() -> {
                        while (System.nanoTime() < end) {
                            b.publish(SseMessage.of(data), "t");
                            if (System.nanoTime() >= warm) {
                                done.increment();
                            }
                        }
                    }));
                }
                for (Thread t : threads) {
                    t.join();
                }
                counted[0] = done.sum();
                System.out.printf("publishers=%d appends/s=%.0f (fsync on, %d s)%n", publishers, counted[0] / (double) seconds,
                        seconds);
            } finally {
                log.close();
            }
        }
    }
}
