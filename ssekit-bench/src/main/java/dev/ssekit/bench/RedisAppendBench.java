package dev.ssekit.bench;

import dev.ssekit.Broadcaster;
import dev.ssekit.SseMessage;
import dev.ssekit.redis.RedisEventLog;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * Publishes per second that one Redis stream sustains (issue #26, item 6): {@code P} publisher
 * threads call {@link Broadcaster#publishAsync} and wait for each acknowledgement, in a loop for
 * {@code S} seconds after one second of warm-up, 100-byte events, no subscribers, through one
 * {@link RedisEventLog} (as one hub node's publishes go) with {@code replicas(R)}: with R = 1 an
 * append is acknowledged only once {@code WAIT 1} confirms a replica holds it. Arguments: {@code
 * REDIS_URI SECONDS REPLICAS PUBLISHERS…}. Failed appends are counted, not retried.
 */
public final class RedisAppendBench {

    private RedisAppendBench() {
    }

    /**
     * Runs the measurement and prints one line per publisher count.
     *
     * @param args the Redis URI, seconds, replicas, then publisher counts
     * @throws Exception if the log cannot be opened
     */
    public static void main(String[] args) throws Exception {
        String uri = args[0];
        int seconds = Integer.parseInt(args[1]);
        int replicas = Integer.parseInt(args[2]);
        String data = "x".repeat(100);
        for (int a = 3; a < args.length; a++) {
            int publishers = Integer.parseInt(args[a]);
            try (RedisEventLog log = RedisEventLog.builder(uri).replicas(replicas).build();
                    Broadcaster b = Broadcaster.builder().log(log).build()) {
                LongAdder done = new LongAdder();
                LongAdder failed = new LongAdder();
                long warm = System.nanoTime() + 1_000_000_000L;
                long end = warm + seconds * 1_000_000_000L;
                List<Thread> threads = new ArrayList<>();
                for (int p = 0; p < publishers; p++) {
                    threads.add(Thread.ofPlatform().start(() -> {
                        while (System.nanoTime() < end) {
                            boolean ok;
                            try {
                                b.publishAsync(SseMessage.of(data), List.of("t"), false).toCompletableFuture().join();
                                ok = true;
                            } catch (RuntimeException e) {
                                ok = false;
                            }
                            if (System.nanoTime() >= warm) {
                                (ok ? done : failed).increment();
                            }
                        }
                    }));
                }
                for (Thread t : threads) {
                    t.join();
                }
                System.out.printf("redis replicas=%d publishers=%d appends/s=%.0f failed=%d (%d s)%n", replicas, publishers,
                        done.sum() / (double) seconds, failed.sum(), seconds);
            }
        }
    }
}
