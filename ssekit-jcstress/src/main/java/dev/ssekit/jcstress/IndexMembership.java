package dev.ssekit.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.Sse;
import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import dev.ssekit.spi.SseTransport;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

/**
 * The subscriber index's membership against a concurrent cancel (issue #27, defect 1): one
 * subscriber of topic {@code t} cancels while another subscribes to {@code t}, on the same delivery
 * group. Once both calls returned, an event published to {@code t} must reach the one that stayed
 * (before the fix, the subscribe could add itself to a set the cancel had just unmapped: registered,
 * never matched). Result: whether the remaining subscriber got the event.
 */
@JCStressTest
@Outcome(id = "1", expect = ACCEPTABLE, desc = "the remaining subscriber gets the event")
@Outcome(id = "0", expect = FORBIDDEN, desc = "registered but out of the index: the event never reaches it")
@State
public class IndexMembership {

    /** Runs a delivery group where it is handed over: on the publisher's thread (one group for both). */
    private static final Executor INLINE = Runnable::run;
    /** Nothing is timed here: the liveness sweep never runs. */
    private static final Scheduler NEVER = (task, delay) -> new CompletableFuture<Void>();

    private final Broadcaster broadcaster = Broadcaster.builder().scheduler(NEVER).deliveryLanes(1).build();
    private final Inline leaving = new Inline();
    private final Inline staying = new Inline();
    private final SseConnection leavingConnection = Sse.open(leaving);
    private final SseConnection stayingConnection = Sse.open(staying);

    /** Subscribes, then cancels. */
    @Actor
    public void leaver() {
        broadcaster.subscribe(leavingConnection, "t").cancel();
    }

    /** Subscribes and stays. */
    @Actor
    public void joiner() {
        broadcaster.subscribe(stayingConnection, "t");
    }

    /** Publishes once both returned; the delivery is inline, so it has arrived when publish returns. */
    @Arbiter
    public void check(I_Result r) {
        broadcaster.publish(SseMessage.of("e"), "t");
        r.r1 = staying.received.indexOf("data: e") >= 0 ? 1 : 0;
        broadcaster.close();
    }

    /** An asynchronous transport that writes at once, on the calling thread, into a string. */
    static final class Inline implements SseTransport {
        final StringBuffer received = new StringBuffer();

        @Override
        public void write(byte[] bytes) {
            received.append(new String(bytes, StandardCharsets.UTF_8));
        }

        @Override
        public boolean supportsAsyncWrite() {
            return true;
        }

        @Override
        public void writeAsync(Supplier<List<byte[]>> source, Consumer<java.io.IOException> done) {
            List<byte[]> frames = source.get();
            if (frames == null) {
                return;
            }
            for (byte[] f : frames) {
                write(f);
            }
            done.accept(null);
        }

        @Override
        public Executor deliveryExecutor() {
            return INLINE;
        }

        @Override
        public void close() {
        }

        @Override
        public Optional<String> lastEventId() {
            return Optional.empty();
        }
    }
}
