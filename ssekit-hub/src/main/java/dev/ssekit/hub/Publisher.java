package dev.ssekit.hub;

import dev.ssekit.Broadcaster;
import dev.ssekit.SseMessage;
import dev.ssekit.redis.RedisBackplane;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where the hub's updates go: straight into this node's broadcaster (one node, durable history in
 * a local file), or through Redis to every node's broadcaster. Thread-safe.
 */
interface Publisher extends AutoCloseable {

    /**
     * Publishes; the stage completes with the event id once the update is stored, or exceptionally
     * when it cannot be (history full or unwritable, Redis unreachable, the hub closing).
     */
    CompletionStage<String> publish(SseMessage message, List<String> topics, boolean restricted);

    /** Completes once every update stored anywhere before this call is in this node's history. */
    CompletionStage<Void> caughtUp();

    /** Extra lines for {@code /metrics}, in the Prometheus text format (may be empty). */
    String metrics();

    /** Releases what it holds (the broadcaster is closed by its owner). */
    @Override
    void close();

    static Publisher local(Broadcaster broadcaster) {
        return new Publisher() {
            @Override
            public CompletionStage<String> publish(SseMessage message, List<String> topics, boolean restricted) {
                // on a virtual thread, never on the event loop that read the request: the history append
                // is file I/O and the fan-out touches every subscriber (10,000 of them held a loop, and
                // the writes of its subscribers, for seconds while the code was still cold)
                // failures (UncheckedIOException from the history, IllegalStateException when closed)
                // complete the stage exceptionally
                return CompletableFuture.supplyAsync(() -> broadcaster.publish(message, topics, restricted),
                        task -> Thread.ofVirtual().name("ssekit-hub-publish").start(task));
            }

            @Override
            public CompletionStage<Void> caughtUp() {
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public String metrics() {
                return "";
            }

            @Override
            public void close() {
            }
        };
    }

    static Publisher redis(RedisBackplane backplane) {
        return new Publisher() {
            @Override
            public CompletionStage<String> publish(SseMessage message, List<String> topics, boolean restricted) {
                try {
                    return backplane.publish(message, topics, restricted);
                } catch (IllegalStateException closed) {
                    return CompletableFuture.failedFuture(closed);
                }
            }

            @Override
            public CompletionStage<Void> caughtUp() {
                return backplane.caughtUp();
            }

            @Override
            public String metrics() {
                return "# HELP ssekit_redis_connected Whether this node reads the Redis stream now.\n"
                        + "# TYPE ssekit_redis_connected gauge\nssekit_redis_connected " + (backplane.connected() ? 1 : 0) + "\n"
                        + "# HELP ssekit_redis_applied_sequence The sequence of the last event this node took from Redis.\n"
                        + "# TYPE ssekit_redis_applied_sequence gauge\nssekit_redis_applied_sequence " + backplane.appliedSequence() + "\n"
                        + "# HELP ssekit_redis_gaps_total Events trimmed from the stream before this node read them.\n"
                        + "# TYPE ssekit_redis_gaps_total counter\nssekit_redis_gaps_total " + backplane.gaps() + "\n";
            }

            @Override
            public void close() {
                backplane.close();
            }
        };
    }
}
